import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UnreachableEdges } from '@kaskade/client-sdk/internals';
import {
  ClientErrorCodes,
  ErrorCodes,
  HTTP_JOIN_MAX_AVOID,
  HTTP_JOIN_ROUTE,
  HttpJoinReply,
  HttpJoinRequest,
  httpJoinPath,
} from '@kaskade/protocol';
import { build } from 'esbuild';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';

const check = (schema: TSchema, value: unknown) => Compile(schema).Check(value);
const repository = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

describe('the HTTP join contract', () => {
  it('fills the room into the route the control plane serves', () => {
    expect(HTTP_JOIN_ROUTE).toBe('/v1/rooms/:room/join');
    expect(httpJoinPath('team-a.1')).toBe('/v1/rooms/team-a.1/join');
    // Whatever a caller passes stays one path segment: the server's schema refuses it, not the router.
    expect(httpJoinPath('a/../b')).toBe('/v1/rooms/a%2F..%2Fb/join');
  });

  it('takes a token with an optional region and edges to avoid, nothing else', () => {
    expect(check(HttpJoinRequest, { token: 't' })).toBe(true);
    expect(check(HttpJoinRequest, { token: 't', region: 'eu', avoid: ['edge-1'] })).toBe(true);
    expect(check(HttpJoinRequest, { token: '' })).toBe(false);
    expect(check(HttpJoinRequest, { token: 't', node: 'edge-1' })).toBe(false);
    expect(check(HttpJoinRequest, { token: 't', avoid: ['../x'] })).toBe(false);
    expect(
      check(HttpJoinRequest, {
        token: 't',
        avoid: Array.from({ length: HTTP_JOIN_MAX_AVOID + 1 }, (_, i) => `e${i}`),
      }),
    ).toBe(false);
    expect(
      check(HttpJoinReply, { edgeUrl: 'http://127.0.0.1:1', edgeToken: 'j', nodeId: 'e', region: 'eu' }),
    ).toBe(true);
    expect(check(HttpJoinReply, { edgeUrl: 'http://127.0.0.1:1', edgeToken: 'j' })).toBe(false);
  });

  it('the SDK remembers as many unreachable edges as the join accepts to avoid', () => {
    expect(UnreachableEdges.LIMIT).toBe(HTTP_JOIN_MAX_AVOID);
  });

  it('the k6 script spells no protocol path: its runner hands them over from the protocol', () => {
    expect(readFileSync(repository('loadtest/k6/join-storm.ts'), 'utf8')).not.toMatch(/['"`]\/v1\//);
  });
});

describe('error codes', () => {
  it('the codes a client names itself are apart from those servers send', () => {
    expect(ClientErrorCodes.filter((code) => (ErrorCodes as readonly string[]).includes(code))).toEqual([]);
  });

  it('the SDK bundle takes the protocol without its schema library', async () => {
    const result = await build({
      entryPoints: [repository('client-sdk/src/index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((input) => input.includes('control-plane/protocol/'))).toBe(true);
    expect(inputs.filter((input) => /node_modules\/typebox\//.test(input))).toEqual([]);
  });
});
