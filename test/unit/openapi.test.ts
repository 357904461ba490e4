import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROOM_ACTION_NAMES, WEBHOOK_TYPES } from '@kaskade/protocol';
import { expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/openapi.ts', import.meta.url));
const file = new URL('../../control-plane/service/openapi.json', import.meta.url);

it('the OpenAPI file is what the schemas make of it', () => {
  // Regenerate with: node scripts/openapi.ts --write
  const check = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  expect(check.stderr).toBe('');
  expect(check.status).toBe(0);
});

it('documents every room action, the summary, the join and every webhook, with the API key scheme', () => {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  expect(doc.openapi).toBe('3.1.0');
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      '/v1/rooms/{room}/join',
      '/v1/rooms/{room}',
      '/v1/capacity',
      '/v1/capacity/reservations/{id}',
      ...ROOM_ACTION_NAMES.map((name) => `/v1/rooms/{room}/actions/${name}`),
    ]),
  );
  expect(Object.keys(doc.paths)).toHaveLength(4 + ROOM_ACTION_NAMES.length);
  expect(Object.keys(doc.webhooks).sort()).toEqual([...WEBHOOK_TYPES].sort());
  expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  expect(doc.paths['/v1/rooms/{room}'].get.security).toEqual([{ apiKey: [] }]);
  expect(doc.webhooks.participantJoined.post.requestBody.content['application/json'].schema.required).toEqual(
    expect.arrayContaining(['id', 'type', 'room', 'createdAt', 'data']),
  );
});
