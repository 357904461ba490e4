import type { Redis } from 'ioredis';
import { LIVENESS, nodeKeys } from './keys.ts';

/**
 * Node liveness in Redis: a sorted set, member a node id, score when its liveness
 * expires (ms on the Redis server's clock, so no two hosts' clocks are ever compared).
 * Every node (edge and relay) pushes its expiry forward on each heartbeat. A member
 * outlives its expiry on purpose: it stays until a control-plane replica has declared
 * the node dead, so a replica started after the death still finds it. The key itself
 * expires a day after the last beat of any node: a cluster stopped for good leaves
 * nothing behind, and the set holds at most one member per node id.
 */
const RETENTION_S = 86_400;

// One beat: the node's liveness now lasts ARGV[2] ms more, on the server's clock.
const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return now
`;

// Removes a node's liveness only if it has not been refreshed since it was seen lapsed
// (expiry ARGV[2]): a node that came back in the meantime stays.
const FORGET_LAPSED = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

/** The liveness record as read at one instant of the Redis server's clock. */
export interface LivenessSnapshot {
  /** The server's time of the read (ms). */
  now: number;
  /** Node id -> when its liveness expires (ms, server clock); at or before `now`: lapsed. */
  expiries: Map<string, number>;
}

/** The operations the directory's metrics time, each a method of NodeLiveness. */
export const LIVENESS_OPERATIONS = ['beat', 'read', 'claimDeadNode', 'forgetLapsed'] as const;

interface Scripts {
  livenessBeat(key: string, nodeId: string, ttlMs: string, retentionS: string): Promise<number>;
  livenessForget(key: string, nodeId: string, expiry: string): Promise<number>;
}

export class NodeLiveness {
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
    redis.defineCommand('livenessBeat', { numberOfKeys: 1, lua: BEAT });
    redis.defineCommand('livenessForget', { numberOfKeys: 1, lua: FORGET_LAPSED });
  }

  /** The node is alive for `ttlMs` more. */
  async beat(nodeId: string, ttlMs: number): Promise<void> {
    await this.#scripts.livenessBeat(LIVENESS, nodeId, String(ttlMs), String(RETENTION_S));
  }

  /** Every node's liveness, with the server's time of the read. */
  async read(): Promise<LivenessSnapshot> {
    const replies = await this.#redis.multi().time().zrange(LIVENESS, 0, -1, 'WITHSCORES').exec();
    if (!replies) throw new Error('liveness read aborted');
    for (const [err] of replies) if (err) throw err;
    const [seconds, micros] = replies[0]![1] as [string, string];
    const flat = replies[1]![1] as string[];
    const expiries = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const expiry = Number(flat[i + 1]);
      if (Number.isFinite(expiry)) expiries.set(flat[i]!, expiry);
    }
    return { now: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), expiries };
  }

  /**
   * The right to clean up after a dead node, for `holdMs`: true for exactly one caller
   * (SET NX), so of the replicas that all notice a death one removes its entries.
   */
  async claimDeadNode(nodeId: string, holdMs: number): Promise<boolean> {
    return (await this.#redis.set(nodeKeys(nodeId).dead, '1', 'PX', holdMs, 'NX')) === 'OK';
  }

  /** Drops a dead node's liveness, unless it was refreshed after `expiry` (the node came back). */
  async forgetLapsed(nodeId: string, expiry: number): Promise<boolean> {
    return (await this.#scripts.livenessForget(LIVENESS, nodeId, String(expiry))) === 1;
  }

  get #scripts(): Scripts {
    return this.#redis as unknown as Scripts;
  }
}
