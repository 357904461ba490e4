import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { labelCombinations, preinitialisedCounter, preinitialisedHistogram } from '@kaskade/node-toolkit';
import {
  type MeshParticipant,
  MeshParticipant as ParticipantSchema,
  type RemoteStream,
  RemoteStream as StreamSchema,
} from '@kaskade/protocol';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { LIVENESS_OPERATIONS, NodeLiveness } from './NodeLiveness.ts';

/**
 * The shared room directory in Redis: who is in a room, which streams it has and
 * on which node each originates, which nodes carry it. Every key of a room carries
 * the hash tag {room}, so a room lives in one Redis Cluster slot and its multi-key
 * updates run in one MULTI. Every key expires unless the nodes carrying the room
 * refresh it, so a crashed cluster cleans up after itself.
 */
export interface RoomState {
  participants: MeshParticipant[];
  streams: RemoteStream[];
  nodes: string[];
}

const keys = (room: string) => ({
  participants: `kaskade:room:{${room}}:participants`,
  /** identity -> the participant id that holds it (the last to join with it). */
  identities: `kaskade:room:{${room}}:identities`,
  streams: `kaskade:room:{${room}}:streams`,
  nodes: `kaskade:room:{${room}}:nodes`,
});
/**
 * The index of rooms: a sorted set scored by when each room's entry expires (ms), so
 * a room nobody refreshes drops out of it on its own, and the key itself expires
 * with the last room. (It was a plain set, `kaskade:rooms`, that never expired.)
 */
const ROOMS = 'kaskade:room-index';
const nodeRoomsKey = (nodeId: string) => `kaskade:node:{${nodeId}}:rooms`;
/**
 * A used token id, under its own hash tag so token keys spread over a cluster. The jti
 * is the application's or the control plane's string: hashed, it is key-safe and bounded.
 */
const usedTokenKey = (jti: string) =>
  `kaskade:token:{${createHash('sha256').update(jti).digest('hex')}}:used`;

// Removes every entry of a node from a room's hashes, atomically; returns what it removed.
// An identity goes with its participant only if it still points at it.
const PURGE_NODE = `
local removed = {}
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    local ok, entry = pcall(cjson.decode, all[i + 1])
    if not ok or entry.node == ARGV[1] then
      redis.call('HDEL', key, all[i])
      table.insert(removed, all[i + 1])
      if ok and entry.identity and redis.call('HGET', KEYS[4], entry.identity) == all[i] then
        redis.call('HDEL', KEYS[4], entry.identity)
      end
    end
  end
end
redis.call('HDEL', KEYS[3], ARGV[1])
return removed
`;

// Removes one participant if node ARGV[2] hosts it (a participant that moved to another
// node stays), and its identity if the identity still points at it. 1 removed, 0 absent,
// -1 hosted elsewhere.
const REMOVE_PARTICIPANT = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, entry = pcall(cjson.decode, raw)
if ok and entry.node ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[1], ARGV[1])
if ok and entry.identity and redis.call('HGET', KEYS[2], entry.identity) == ARGV[1] then
  redis.call('HDEL', KEYS[2], entry.identity)
end
return 1
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
  /** How long this node's liveness lasts after each refresh (a node's own Directory). */
  livenessTtlMs?: number;
  /** PEM file of the CA that signed the Redis server's certificate (rediss:// with a private CA). */
  caFile?: string;
  /** Where to report operation latency, failures and connectivity. */
  registry?: Registry;
}

/** The operations timed by the metrics, each a method of Directory. */
const OPERATIONS = [
  'addParticipant',
  'removeParticipant',
  'identityOwner',
  'participant',
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
  /** Which nodes are alive, in the same Redis (NodeLiveness.ts). */
  readonly liveness: NodeLiveness;
  readonly #ttlSeconds: number;
  readonly #livenessTtlMs: number;
  readonly #logger: Logger;

  constructor(
    url: string,
    logger: Logger,
    { ttlSeconds = 60, livenessTtlMs = 6000, registry, caFile }: DirectoryOptions = {},
  ) {
    // Commands wait while Redis is away (offline queue) and the client reconnects forever;
    // callers treat a failed command as "directory unavailable", never as fatal.
    // Credentials come in the URL (redis://user:password@host); rediss:// turns TLS on.
    this.redis = new Redis(url, {
      maxRetriesPerRequest: 2,
      retryStrategy: (n) => Math.min(n * 100, 2000),
      lazyConnect: false,
      // The file was checked when the config loaded (redisCaProblems).
      ...(caFile ? { tls: { ca: readFileSync(caFile) } } : {}),
    });
    this.redis.on('error', (err) => logger.debug({ err }, 'redis error'));
    this.#ttlSeconds = ttlSeconds;
    this.#livenessTtlMs = livenessTtlMs;
    this.#logger = logger;
    this.liveness = new NodeLiveness(this.redis);
    this.redis.defineCommand('purgeNode', { numberOfKeys: 4, lua: PURGE_NODE });
    this.redis.defineCommand('removeParticipant', { numberOfKeys: 2, lua: REMOVE_PARTICIPANT });
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
    const timedOperations = [
      ...OPERATIONS.map((name) => ({ target: this as object, name, operation: name as string })),
      ...LIVENESS_OPERATIONS.map((name) => ({ target: this.liveness, name, operation: `liveness.${name}` })),
    ];
    const zeroed = labelCombinations({ operation: timedOperations.map((t) => t.operation) });
    const seconds = preinitialisedHistogram({
      name: 'kaskade_redis_operation_seconds',
      help: 'Duration of directory operations (one or a few Redis commands each)',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
      zeroed,
    });
    const failures = preinitialisedCounter({
      name: 'kaskade_redis_operation_failures_total',
      help: 'Directory operations that failed (Redis unreachable or an error reply)',
      labelNames: ['operation'],
      registers,
      zeroed,
    });
    for (const { target, name, operation } of timedOperations) {
      const original = (target as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!;
      const timed = async (...args: unknown[]) => {
        const end = seconds.startTimer({ operation });
        try {
          return await original.apply(target, args);
        } catch (error) {
          failures.inc({ operation });
          throw error;
        } finally {
          end();
        }
      };
      Object.defineProperty(target, name, { value: timed });
    }
  }

  /** Adds (or updates) a participant; its identity now belongs to it, in the same transaction. */
  async addParticipant(room: string, participant: MeshParticipant): Promise<void> {
    const k = keys(room);
    const multi = this.redis
      .multi()
      .hset(k.participants, participant.id, JSON.stringify(participant))
      .hset(k.identities, participant.identity, participant.id);
    this.#touchInto(multi, room, participant.node);
    await multi.exec();
    await this.#indexRoom(room, participant.node);
  }

  /**
   * Removes a participant that node `nodeId` hosts; false when the directory has it on
   * another node (it moved there: a migration or a reconnect), which is left alone.
   */
  async removeParticipant(room: string, participantId: string, nodeId: string): Promise<boolean> {
    const k = keys(room);
    const result = await (this.redis as unknown as Scripts).removeParticipant(
      k.participants,
      k.identities,
      participantId,
      nodeId,
    );
    return result !== -1;
  }

  /** One participant's entry, or null (absent or malformed). */
  async participant(room: string, participantId: string): Promise<MeshParticipant | null> {
    const raw = await this.redis.hget(keys(room).participants, participantId);
    if (raw === null) return null;
    return this.#parse<MeshParticipant>([raw], ParticipantSchema, room)[0] ?? null;
  }

  /** The participant id that holds an identity in a room (the last to join with it), or null. */
  async identityOwner(room: string, identity: string): Promise<string | null> {
    return this.redis.hget(keys(room).identities, identity);
  }

  async addStream(room: string, stream: RemoteStream): Promise<void> {
    const multi = this.redis.multi().hset(keys(room).streams, stream.producerId, JSON.stringify(stream));
    this.#touchInto(multi, room, stream.node);
    await multi.exec();
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

  /** The rooms some node has refreshed within the TTL. */
  async rooms(): Promise<string[]> {
    return (await this.redis.zrangebyscore(ROOMS, Date.now(), '+inf')).sort();
  }

  /**
   * On each heartbeat of a node: its liveness lasts another TTL, and the keys of the
   * rooms it carries stay alive (keys lost with Redis stay lost until republish). A
   * relay carries no room keys: it passes no rooms and writes only its liveness.
   */
  async refresh(rooms: string[], nodeId: string): Promise<void> {
    const beat = this.liveness.beat(nodeId, this.#livenessTtlMs);
    if (rooms.length === 0) return beat;
    const multi = this.redis.multi();
    for (const room of rooms)
      for (const key of Object.values(keys(room))) multi.expire(key, this.#ttlSeconds);
    multi.expire(nodeRoomsKey(nodeId), this.#ttlSeconds);
    this.#indexInto(multi, rooms);
    multi.zremrangebyscore(ROOMS, '-inf', Date.now()); // rooms of crashed nodes
    await Promise.all([beat, multi.exec()]);
  }

  /**
   * Writes everything a node holds in a room, in one transaction: a node listed in a
   * room's nodes hash always has all its entries there (resync relies on it).
   */
  async republish(
    room: string,
    nodeId: string,
    participants: MeshParticipant[],
    streams: RemoteStream[],
  ): Promise<void> {
    const k = keys(room);
    const multi = this.redis.multi();
    for (const p of participants) {
      multi.hset(k.participants, p.id, JSON.stringify(p));
      // After a Redis loss: claim identities nobody holds, never take one over.
      multi.hsetnx(k.identities, p.identity, p.id);
    }
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
      await this.redis.del(...Object.values(k));
      await this.redis.zrem(ROOMS, room);
    }
  }

  /** Removes a node's participants and streams from one room; returns them. */
  async purgeNode(
    room: string,
    nodeId: string,
  ): Promise<{ participants: MeshParticipant[]; streams: RemoteStream[] }> {
    const k = keys(room);
    const removed: string[] = await (this.redis as unknown as Scripts).purgeNode(
      k.participants,
      k.streams,
      k.nodes,
      k.identities,
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
      participants: entries.filter((e) => 'identity' in e) as MeshParticipant[],
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

  /**
   * Marks the node as carrying the room and (re)starts the TTL of the room's keys. It
   * goes after the writes of the same MULTI: EXPIRE on a key that does not exist yet
   * does nothing, and the hash created after it would never expire.
   */
  #touchInto(multi: ReturnType<Redis['multi']>, room: string, nodeId: string): void {
    const k = keys(room);
    multi.hset(k.nodes, nodeId, Date.now());
    for (const key of Object.values(k)) multi.expire(key, this.#ttlSeconds);
  }

  async #indexRoom(room: string, nodeId: string): Promise<void> {
    const multi = this.redis
      .multi()
      .sadd(nodeRoomsKey(nodeId), room)
      .expire(nodeRoomsKey(nodeId), this.#ttlSeconds);
    this.#indexInto(multi, [room]);
    await multi.exec();
  }

  /** Lists rooms in the index until a TTL from now; the index key lives as long as its newest entry. */
  #indexInto(multi: ReturnType<Redis['multi']>, rooms: string[]): void {
    const until = Date.now() + this.#ttlSeconds * 1000;
    // GT: a node with a shorter TTL never shortens another's (GT still adds new members).
    multi.zadd(ROOMS, 'GT', ...rooms.flatMap((room) => [until, room]));
    // EXPIRE GT skips a key without a TTL (a new one), NX sets only that: together, "at least".
    multi.expire(ROOMS, this.#ttlSeconds, 'GT');
    multi.expire(ROOMS, this.#ttlSeconds, 'NX');
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
  purgeNode(k1: string, k2: string, k3: string, k4: string, nodeId: string): Promise<string[]>;
  removeParticipant(k1: string, k2: string, participantId: string, nodeId: string): Promise<number>;
  setPaused(k1: string, producerId: string, paused: string): Promise<number>;
}
