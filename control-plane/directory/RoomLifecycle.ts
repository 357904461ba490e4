import type { Redis } from 'ioredis';
import { roomKeys, webhookStateKeys } from './keys.ts';

// Ends the room's run only if nobody is in it: one script, so a join racing the last
// leave either keeps the room running or starts it again afterwards.
const END_IF_EMPTY = `
if redis.call('HLEN', KEYS[2]) > 0 then return 0 end
return redis.call('DEL', KEYS[1])
`;

/**
 * When a room starts (its first participant) and ends (its last one left), for the
 * webhooks: a marker in Redis, so whichever control-plane replica hears a join or a
 * leave, each start and each end is found once. The marker expires after `ttlSeconds`
 * (the room state's lifetime): a room whose every node died without telling ends silently.
 */
export class RoomLifecycle {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, ttlSeconds: number) {
    this.#redis = redis;
    this.#ttlSeconds = ttlSeconds;
    redis.defineCommand('kaskadeEndIfEmpty', { numberOfKeys: 2, lua: END_IF_EMPTY });
  }

  /** True once per run of the room: the first time after it was empty. */
  async started(room: string): Promise<boolean> {
    const set = await this.#redis.set(webhookStateKeys(room).started, '1', 'EX', this.#ttlSeconds, 'NX');
    return set === 'OK';
  }

  /** True once per run: the room had started and the directory now has nobody in it. */
  async endedIfEmpty(room: string): Promise<boolean> {
    const redis = this.#redis as Redis & {
      kaskadeEndIfEmpty(started: string, participants: string): Promise<number>;
    };
    return (await redis.kaskadeEndIfEmpty(webhookStateKeys(room).started, roomKeys(room).participants)) === 1;
  }

  /**
   * True once per run: the room had started and is ended now, whoever is still in it (a
   * moderator ended the meeting). The leaves that follow find it ended already.
   */
  async ended(room: string): Promise<boolean> {
    return (await this.#redis.del(webhookStateKeys(room).started)) === 1;
  }

  /** The lobby waits of `participantIds` not noticed before, each noted now: one replica notices each once. */
  async firstNoticed(room: string, participantIds: string[]): Promise<string[]> {
    if (participantIds.length === 0) return [];
    const key = webhookStateKeys(room).lobbyNoticed;
    const multi = this.#redis.multi();
    for (const id of participantIds) multi.hsetnx(key, id, '1');
    multi.expire(key, this.#ttlSeconds);
    const results = (await multi.exec()) ?? [];
    return participantIds.filter((_, i) => results[i]?.[1] === 1);
  }
}
