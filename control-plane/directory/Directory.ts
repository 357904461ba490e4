import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  RemoteParticipant as ParticipantSchema,
  type RemoteParticipant,
  type RemoteStream,
  RemoteStream as StreamSchema,
} from '../protocol/nats.ts';

/**
 * The shared room directory in Redis: who is in a room, which streams it has and
 * on which node each originates, which nodes carry it. Every key of a room carries
 * the hash tag {room}, so a room lives in one Redis Cluster slot and its multi-key
 * updates run in one MULTI. Every key expires unless the nodes carrying the room
 * refresh it, so a crashed cluster cleans up after itself.
 */
export interface RoomState {
  participants: RemoteParticipant[];
  streams: RemoteStream[];
  nodes: string[];
}

const keys = (room: string) => ({
  participants: `kaskade:room:{${room}}:participants`,
  streams: `kaskade:room:{${room}}:streams`,
  nodes: `kaskade:room:{${room}}:nodes`,
});
const ROOMS = 'kaskade:rooms';
const nodeRoomsKey = (nodeId: string) => `kaskade:node:{${nodeId}}:rooms`;
/** A used token id; its own hash tag, so token keys spread over a cluster. */
const usedTokenKey = (jti: string) => `kaskade:token:{${jti}}:used`;

// Removes every entry of a node from a room's hashes, atomically; returns what it removed.
const PURGE_NODE = `
local removed = {}
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    local ok, entry = pcall(cjson.decode, all[i + 1])
    if not ok or entry.node == ARGV[1] then
      redis.call('HDEL', key, all[i])
      table.insert(removed, all[i + 1])
    end
  end
end
redis.call('HDEL', KEYS[3], ARGV[1])
return removed
`;

// Sets the paused flag of one stream, atomically.
const SET_PAUSED = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local stream = cjson.decode(raw)
stream.paused = ARGV[2] == '1'
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(stream))
return 1
`;

export interface DirectoryOptions {
  /** Directory keys expire unless refreshed within this time. */
  ttlSeconds?: number;
  /** Where to report operation latency, failures and connectivity. */
  registry?: Registry;
}

/** The operations timed by the metrics, each a method of Directory. */
const OPERATIONS = [
  'addParticipant',
  'removeParticipant',
  'addStream',
  'removeStream',
  'setStreamPaused',
  'room',
  'rooms',
  'refresh',
  'republish',
  'leaveRoom',
  'purgeNode',
  'roomsOfNode',
  'forgetNode',
  'useTokenOnce',
] as const satisfies readonly (keyof Directory)[];

export class Directory {
  readonly redis: Redis;
  readonly #ttlSeconds: number;
  readonly #logger: Logger;

  constructor(url: string, logger: Logger, { ttlSeconds = 60, registry }: DirectoryOptions = {}) {
    // Commands wait while Redis is away (offline queue) and the client reconnects forever;
    // callers treat a failed command as "directory unavailable", never as fatal.
    this.redis = new Redis(url, {
      maxRetriesPerRequest: 2,
      retryStrategy: (n) => Math.min(n * 100, 2000),
      lazyConnect: false,
    });
    this.redis.on('error', (err) => logger.debug({ err }, 'redis error'));
    this.#ttlSeconds = ttlSeconds;
    this.#logger = logger;
    this.redis.defineCommand('purgeNode', { numberOfKeys: 3, lua: PURGE_NODE });
    this.redis.defineCommand('setPaused', { numberOfKeys: 1, lua: SET_PAUSED });
    if (registry) this.#instrument(registry);
  }

  /** Times every directory operation and counts its failures; reports whether Redis is reachable. */
  #instrument(registry: Registry): void {
    const registers = [registry];
    const redis = this.redis;
    new Gauge({
      name: 'kaskade_redis_connected',
      help: '1 while the Redis connection of the directory is ready, else 0',
      registers,
      collect() {
        this.set(redis.status === 'ready' ? 1 : 0);
      },
    });
    const seconds = new Histogram({
      name: 'kaskade_redis_operation_seconds',
      help: 'Duration of directory operations (one or a few Redis commands each)',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    });
    const failures = new Counter({
      name: 'kaskade_redis_operation_failures_total',
      help: 'Directory operations that failed (Redis unreachable or an error reply)',
      labelNames: ['operation'],
      registers,
    });
    for (const operation of OPERATIONS) {
      seconds.zero({ operation });
      failures.inc({ operation }, 0);
      const original = this[operation] as (...args: unknown[]) => Promise<unknown>;
      const timed = async (...args: unknown[]) => {
        const end = seconds.startTimer({ operation });
        try {
          return await original.apply(this, args);
        } catch (error) {
          failures.inc({ operation });
          throw error;
        } finally {
          end();
        }
      };
      Object.defineProperty(this, operation, { value: timed });
    }
  }

  async addParticipant(room: string, participant: RemoteParticipant): Promise<void> {
    const k = keys(room);
    await this.#touch(room, participant.node)
      .hset(k.participants, participant.id, JSON.stringify(participant))
      .exec();
    await this.#indexRoom(room, participant.node);
  }

  async removeParticipant(room: string, participantId: string): Promise<void> {
    await this.redis.hdel(keys(room).participants, participantId);
  }

  async addStream(room: string, stream: RemoteStream): Promise<void> {
    await this.#touch(room, stream.node)
      .hset(keys(room).streams, stream.producerId, JSON.stringify(stream))
      .exec();
  }

  async removeStream(room: string, producerId: string): Promise<void> {
    await this.redis.hdel(keys(room).streams, producerId);
  }

  async setStreamPaused(room: string, producerId: string, paused: boolean): Promise<void> {
    await (this.redis as unknown as Scripts).setPaused(keys(room).streams, producerId, paused ? '1' : '0');
  }

  /** Everything known about a room; entries that fail their schema are dropped and logged. */
  async room(room: string): Promise<RoomState> {
    const k = keys(room);
    const [participants, streams, nodes] = await Promise.all([
      this.redis.hgetall(k.participants),
      this.redis.hgetall(k.streams),
      this.redis.hkeys(k.nodes),
    ]);
    return {
      participants: this.#parse(Object.values(participants), ParticipantSchema, room),
      streams: this.#parse(Object.values(streams), StreamSchema, room),
      nodes,
    };
  }

  async rooms(): Promise<string[]> {
    return (await this.redis.smembers(ROOMS)).sort();
  }

  /** Keeps a room's keys alive while this node carries it (keys lost with Redis stay lost until republish). */
  async refresh(rooms: string[], nodeId: string): Promise<void> {
    if (rooms.length === 0) return;
    const multi = this.redis.multi();
    for (const room of rooms)
      for (const key of Object.values(keys(room))) multi.expire(key, this.#ttlSeconds);
    multi.expire(nodeRoomsKey(nodeId), this.#ttlSeconds);
    await multi.exec();
  }

  /**
   * Writes everything a node holds in a room, in one transaction: a node listed in a
   * room's nodes hash always has all its entries there (resync relies on it).
   */
  async republish(
    room: string,
    nodeId: string,
    participants: RemoteParticipant[],
    streams: RemoteStream[],
  ): Promise<void> {
    const k = keys(room);
    const multi = this.redis.multi();
    for (const p of participants) multi.hset(k.participants, p.id, JSON.stringify(p));
    for (const s of streams) multi.hset(k.streams, s.producerId, JSON.stringify(s));
    this.#touchInto(multi, room, nodeId);
    await multi.exec();
    await this.#indexRoom(room, nodeId);
  }

  /** This node no longer carries the room; the last node out removes the room's keys. */
  async leaveRoom(room: string, nodeId: string): Promise<void> {
    const k = keys(room);
    await this.purgeNode(room, nodeId);
    await this.redis.srem(nodeRoomsKey(nodeId), room);
    const [nodes, participants] = await Promise.all([
      this.redis.hlen(k.nodes),
      this.redis.hlen(k.participants),
    ]);
    if (nodes === 0 && participants === 0) {
      await this.redis.del(k.participants, k.streams, k.nodes);
      await this.redis.srem(ROOMS, room);
    }
  }

  /** Removes a node's participants and streams from one room; returns them. */
  async purgeNode(
    room: string,
    nodeId: string,
  ): Promise<{ participants: RemoteParticipant[]; streams: RemoteStream[] }> {
    const k = keys(room);
    const removed: string[] = await (this.redis as unknown as Scripts).purgeNode(
      k.participants,
      k.streams,
      k.nodes,
      nodeId,
    );
    const entries = removed.flatMap((raw) => {
      try {
        return [JSON.parse(raw) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    return {
      participants: entries.filter((e) => 'identity' in e) as RemoteParticipant[],
      streams: entries.filter((e) => 'producerId' in e) as RemoteStream[],
    };
  }

  /** The rooms a node carried, for cleaning up after it. */
  async roomsOfNode(nodeId: string): Promise<string[]> {
    return this.redis.smembers(nodeRoomsKey(nodeId));
  }

  async forgetNode(nodeId: string): Promise<void> {
    await this.redis.del(nodeRoomsKey(nodeId));
  }

  /**
   * Records a token id as used, until the token expires anyway (at least a second):
   * true the first time, false for any later use. One SET NX, so two edges racing
   * with the same token cannot both win.
   */
  async useTokenOnce(jti: string, expiresAtSeconds: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(expiresAtSeconds - Date.now() / 1000));
    return (await this.redis.set(usedTokenKey(jti), '1', 'EX', ttl, 'NX')) === 'OK';
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  #touch(room: string, nodeId: string) {
    const multi = this.redis.multi();
    this.#touchInto(multi, room, nodeId);
    return multi;
  }

  #touchInto(multi: ReturnType<Redis['multi']>, room: string, nodeId: string): void {
    const k = keys(room);
    multi.hset(k.nodes, nodeId, Date.now());
    for (const key of Object.values(k)) multi.expire(key, this.#ttlSeconds);
  }

  async #indexRoom(room: string, nodeId: string): Promise<void> {
    await this.redis
      .multi()
      .sadd(ROOMS, room)
      .sadd(nodeRoomsKey(nodeId), room)
      .expire(nodeRoomsKey(nodeId), this.#ttlSeconds)
      .exec();
  }

  #parse<T>(raws: string[], schema: TSchema, room: string): T[] {
    const check = Compile(schema);
    return raws.flatMap((raw) => {
      try {
        const value = JSON.parse(raw);
        if (check.Check(value)) return [value as T];
      } catch {
        // fall through
      }
      this.#logger.warn({ room }, 'malformed directory entry ignored');
      return [];
    });
  }
}

interface Scripts {
  purgeNode(k1: string, k2: string, k3: string, nodeId: string): Promise<string[]>;
  setPaused(k1: string, producerId: string, paused: string): Promise<number>;
}
