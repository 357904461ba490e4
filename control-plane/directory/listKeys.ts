import type { Redis } from 'ioredis';
import { KEY_PATTERNS, LIVENESS, nodeKeys, partOf, ROOM_INDEX, roomKeys, roomStatePattern } from './keys.ts';

/**
 * Which keys to list: one room's (its hashes, its state keys, and the room index while
 * it lists the room), one node's (its room list, its dead-node lock, and the liveness set while it
 * lists the node), every room's hashes, the used tokens, or every key of the directory.
 */
export type KeyScope = { room: string } | { node: string } | Exclude<keyof typeof KEY_PATTERNS, 'all'>;

/** A key of the directory: its name, what it holds (participants, rooms, index, used...) and its lifetime. */
export interface DirectoryKey {
  key: string;
  part: string;
  /** Seconds until it expires; -1: it never does. */
  ttlSeconds: number;
}

export async function listKeys(redis: Redis, scope?: KeyScope): Promise<DirectoryKey[]> {
  const names =
    typeof scope === 'object' ? await keysOf(redis, scope) : await scan(redis, KEY_PATTERNS[scope ?? 'all']);
  const ttls = await Promise.all(names.map((key) => redis.ttl(key)));
  return names
    .map((key, i) => ({ key, part: partOf(key), ttlSeconds: ttls[i]! }))
    .filter((k) => k.ttlSeconds !== -2) // gone between the listing and its TTL
    .sort((a, b) => a.key.localeCompare(b.key));
}

async function keysOf(redis: Redis, scope: { room: string } | { node: string }): Promise<string[]> {
  const [own, set, member] =
    'room' in scope
      ? [Object.values(roomKeys(scope.room)), ROOM_INDEX, scope.room]
      : [Object.values(nodeKeys(scope.node)), LIVENESS, scope.node];
  const [present, score, state] = await Promise.all([
    Promise.all(own.map(async (key) => ((await redis.exists(key)) === 1 ? [key] : []))),
    redis.zscore(set, member),
    'room' in scope ? scan(redis, roomStatePattern(scope.room)) : [],
  ]);
  return [...present.flat(), ...state, ...(score === null ? [] : [set])];
}

export async function scan(redis: Redis, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    for (const key of batch) found.add(key);
    cursor = next;
  } while (cursor !== '0');
  return [...found];
}
