import { CapacityReservation, MAX_CAPACITY_RESERVATIONS } from '@kaskade/protocol';
import type { Redis } from 'ioredis';
import { Compile } from 'typebox/compile';
import { capacityKeys } from './keys.ts';

/** A reservation's key outlives its end by this much, so GET /v1/capacity still shows what just ended. */
const KEPT_AFTER_END_MS = 3_600_000;

const validReservation = Compile(CapacityReservation);

/** The operations timed by the directory's metrics (`capacity.<name>`). */
export const CAPACITY_OPERATIONS = [
  'put',
  'delete',
  'list',
] as const satisfies readonly (keyof CapacityReservations)[];

/**
 * The application's pre-warm reservations, shared by every control-plane replica: each
 * under its own key (expiring an hour after its end) and in an index scored by that
 * expiry, whose size bounds how many there are. The index is pruned on every read and
 * write, so a reservation that expired leaves no trace; one whose key Redis lost is
 * dropped from the index when read.
 */
export class CapacityReservations {
  readonly #redis: Redis;
  readonly #max: number;

  constructor(redis: Redis, { max = MAX_CAPACITY_RESERVATIONS }: { max?: number } = {}) {
    this.#redis = redis;
    this.#max = max;
  }

  /**
   * Stores (or replaces) a reservation; false when there are `max` others already.
   * (Two replicas storing new ones at once may each see room for one: the bound is
   * exceeded by at most the writes racing, never without limit.)
   */
  async put(reservation: CapacityReservation, now = Date.now()): Promise<boolean> {
    const expiresAt = Date.parse(reservation.endsAt) + KEPT_AFTER_END_MS;
    const { index } = capacityKeys;
    const [, [, known], [, count]] = ((await this.#redis
      .multi()
      .zremrangebyscore(index, '-inf', now)
      .zscore(index, reservation.id)
      .zcard(index)
      .exec()) ?? []) as [unknown, [unknown, string | null], [unknown, number]];
    if (known === null && count >= this.#max) return false;
    await this.#redis.set(
      capacityKeys.reservation(reservation.id),
      JSON.stringify(reservation),
      'PX',
      Math.max(1, expiresAt - now),
    );
    await this.#redis.zadd(index, expiresAt, reservation.id);
    // The index lives as long as its longest-lived entry.
    const [, latest] = await this.#redis.zrange(index, -1, -1, 'WITHSCORES');
    await this.#redis.pexpireat(index, Math.max(expiresAt, Number(latest ?? expiresAt)));
    return true;
  }

  /** Removes a reservation; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const [removed] = await Promise.all([
      this.#redis.del(capacityKeys.reservation(id)),
      this.#redis.zrem(capacityKeys.index, id),
    ]);
    return removed === 1;
  }

  /** Every reservation not expired, by start time; malformed or lost entries are dropped. */
  async list(now = Date.now()): Promise<CapacityReservation[]> {
    const { index } = capacityKeys;
    const ids = await this.#redis.zrangebyscore(index, now, '+inf');
    if (ids.length === 0) return [];
    // One GET each, not an MGET: the keys live in different cluster slots.
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.get(capacityKeys.reservation(id));
    const values = ((await pipeline.exec()) ?? []).map(([, value]) => value as string | null);
    const found: CapacityReservation[] = [];
    const lost: string[] = [];
    values.forEach((text, i) => {
      const parsed = parse(text);
      if (parsed) found.push(parsed);
      else lost.push(ids[i]!);
    });
    if (lost.length > 0) await this.#redis.zrem(index, ...lost);
    return found.sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  }
}

function parse(text: string | null): CapacityReservation | undefined {
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return validReservation.Check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
