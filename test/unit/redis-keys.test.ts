import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { sourceFiles } from '../helpers/workspace-imports.ts';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const KEYS_FILE = 'control-plane/directory/keys.ts';
// A directory key spelled out: a room's or a node's keys, a used token, the room index, liveness.
const SPELLED_KEY = new RegExp(`${'kaskade'}:(room[:-]|node:|token:|liveness)`);

it('every Redis key of the directory is built in control-plane/directory/keys.ts and spelled nowhere else', () => {
  expect(SPELLED_KEY.test(['kaskade', 'room', '{demo}', 'streams'].join(':'))).toBe(true);
  expect(readFileSync(join(repository, KEYS_FILE), 'utf8')).toMatch(
    /roomKeys[\s\S]*ROOM_INDEX[\s\S]*LIVENESS/,
  );
  const spelled = sourceFiles(repository)
    .filter((file) => file !== KEYS_FILE)
    .filter((file) => SPELLED_KEY.test(readFileSync(join(repository, file), 'utf8')));
  expect(spelled).toEqual([]);
});
