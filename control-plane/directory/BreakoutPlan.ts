import { BreakoutState, KaskadeError, SafeName } from '@kaskade/protocol';
import type { Redis } from 'ioredis';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { breakoutKeys } from './keys.ts';

/** A main room's breakouts as kept in Redis: the state, and the session their room names carry. */
export const StoredBreakouts = Type.Object({ ...BreakoutState.properties, session: SafeName });
export type StoredBreakouts = Static<typeof StoredBreakouts>;

const storedCheck = Compile(StoredBreakouts);
const roomNameCheck = Compile(SafeName);

/** What a change makes of the plan: a new one, null (no breakouts: the key goes), or undefined (as it is). */
export type PlanChange = (current: StoredBreakouts | null) => StoredBreakouts | null | undefined;

// Compare-and-set: writes ARGV[2] (or deletes, when empty) only if the key still holds
// ARGV[1] ('' = absent). Every change of a plan goes through it, so two replicas (a
// moderator's close and the timer's) never both act on the same state.
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return 1
`;

interface Scripts {
  breakoutsCompareAndSet(key: string, expected: string, next: string, ttlSeconds: string): Promise<number>;
}

/** Attempts of one change against writers racing it, before it gives up (CONFLICT). */
const MAX_ATTEMPTS = 8;

export interface BreakoutPlanOptions {
  /** Every write lasts this long (the room-state TTL: KASKADE_ROOM_STATE_TTL_SECONDS). */
  ttlSeconds?: number;
}

/**
 * The breakout rooms of main rooms, in Redis: each main room's plan (status, rooms, who is
 * assigned where by identity, when they end) under the main room's state prefix, and in
 * each breakout room a pointer to its main room, so whoever holds a room name can tell it
 * is a breakout and of which room. Every write renews the room-state TTL; every change is
 * an atomic compare-and-set of the whole plan (see change()).
 */
export class BreakoutPlan {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, { ttlSeconds = 86_400 }: BreakoutPlanOptions = {}) {
    this.#redis = redis;
    this.#ttlSeconds = ttlSeconds;
    redis.defineCommand('breakoutsCompareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  }

  /** A main room's plan, or null (none, expired, or not readable as one). */
  async state(main: string): Promise<StoredBreakouts | null> {
    return parse(await this.#redis.get(breakoutKeys(main).plan));
  }

  /** The main room a breakout room belongs to, or null when `room` is no breakout. */
  async parentOf(room: string): Promise<string | null> {
    const parent = await this.#redis.get(breakoutKeys(room).parent);
    return parent !== null && roomNameCheck.Check(parent) ? parent : null;
  }

  /**
   * Applies `next` to the plan atomically: read, compute, compare-and-set, again when
   * another writer changed it in between. Each breakout room of the new plan points to
   * its main room (written first, so a participant moved there finds it). Returns the plan
   * before and after; `changed` is false when `next` left it as it was.
   */
  async change(
    main: string,
    next: PlanChange,
  ): Promise<{ before: StoredBreakouts | null; after: StoredBreakouts | null; changed: boolean }> {
    const key = breakoutKeys(main).plan;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const raw = await this.#redis.get(key);
      const before = parse(raw);
      const after = next(before);
      if (after === undefined) return { before, after: before, changed: false };
      if (after) await this.#pointToParent(main, after);
      const written = await this.#scripts.breakoutsCompareAndSet(
        key,
        raw ?? '',
        after ? JSON.stringify(after) : '',
        String(this.#ttlSeconds),
      );
      if (written === 1) return { before, after, changed: true };
    }
    throw new KaskadeError('CONFLICT', `the breakouts of ${main} keep changing; retry`);
  }

  async #pointToParent(main: string, plan: StoredBreakouts): Promise<void> {
    if (plan.rooms.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const { room } of plan.rooms) pipeline.set(breakoutKeys(room).parent, main, 'EX', this.#ttlSeconds);
    const replies = await pipeline.exec();
    for (const [err] of replies ?? []) if (err) throw err;
  }

  get #scripts(): Scripts {
    return this.#redis as unknown as Scripts;
  }
}

function parse(raw: string | null): StoredBreakouts | null {
  if (raw === null) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return storedCheck.Check(value) ? value : null;
  } catch {
    return null;
  }
}
