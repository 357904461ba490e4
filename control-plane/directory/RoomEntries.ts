import {
  type MeshParticipant,
  MeshParticipant as ParticipantSchema,
  type RemoteStream,
  RemoteStream as StreamSchema,
} from '@kaskade/protocol';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { roomKeys } from './keys.ts';
import type { RoomIndex } from './RoomIndex.ts';

/** Everything the directory knows about a room. */
export interface RoomState {
  participants: MeshParticipant[];
  streams: RemoteStream[];
  nodes: string[];
}

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

interface Scripts {
  purgeNode(k1: string, k2: string, k3: string, k4: string, nodeId: string): Promise<string[]>;
  removeParticipant(k1: string, k2: string, participantId: string, nodeId: string): Promise<number>;
  setPaused(k1: string, producerId: string, paused: string): Promise<number>;
}

/**
 * The entries of rooms: who is in each, which streams it has and on which node each
 * originates, which nodes carry it. Every write restarts the TTL of the room's keys.
 */
export class RoomEntries {
  readonly #redis: Redis;
  readonly #index: RoomIndex;
  readonly #ttlSeconds: number;
  readonly #logger: Logger;

  constructor(redis: Redis, index: RoomIndex, ttlSeconds: number, logger: Logger) {
    this.#redis = redis;
    this.#index = index;
    this.#ttlSeconds = ttlSeconds;
    this.#logger = logger;
    redis.defineCommand('purgeNode', { numberOfKeys: 4, lua: PURGE_NODE });
    redis.defineCommand('removeParticipant', { numberOfKeys: 2, lua: REMOVE_PARTICIPANT });
    redis.defineCommand('setPaused', { numberOfKeys: 1, lua: SET_PAUSED });
  }

  async addParticipant(room: string, participant: MeshParticipant): Promise<void> {
    const k = roomKeys(room);
    const multi = this.#redis
      .multi()
      .hset(k.participants, participant.id, JSON.stringify(participant))
      .hset(k.identities, participant.identity, participant.id);
    this.#touchInto(multi, room, participant.node);
    await multi.exec();
    await this.#index.add(room, participant.node);
  }

  async removeParticipant(room: string, participantId: string, nodeId: string): Promise<boolean> {
    const k = roomKeys(room);
    return (
      (await this.#scripts.removeParticipant(k.participants, k.identities, participantId, nodeId)) !== -1
    );
  }

  async participant(room: string, participantId: string): Promise<MeshParticipant | null> {
    const raw = await this.#redis.hget(roomKeys(room).participants, participantId);
    if (raw === null) return null;
    return this.#parse<MeshParticipant>([raw], ParticipantSchema, room)[0] ?? null;
  }

  async identityOwner(room: string, identity: string): Promise<string | null> {
    return this.#redis.hget(roomKeys(room).identities, identity);
  }

  async addStream(room: string, stream: RemoteStream): Promise<void> {
    const multi = this.#redis.multi().hset(roomKeys(room).streams, stream.producerId, JSON.stringify(stream));
    this.#touchInto(multi, room, stream.node);
    await multi.exec();
  }

  async removeStream(room: string, producerId: string): Promise<void> {
    await this.#redis.hdel(roomKeys(room).streams, producerId);
  }

  async setStreamPaused(room: string, producerId: string, paused: boolean): Promise<void> {
    await this.#scripts.setPaused(roomKeys(room).streams, producerId, paused ? '1' : '0');
  }

  roomNodes(room: string): Promise<string[]> {
    return this.#redis.hkeys(roomKeys(room).nodes);
  }

  /** Entries that fail their schema are dropped and logged. */
  async room(room: string): Promise<RoomState> {
    const k = roomKeys(room);
    const [participants, streams, nodes] = await Promise.all([
      this.#redis.hgetall(k.participants),
      this.#redis.hgetall(k.streams),
      this.#redis.hkeys(k.nodes),
    ]);
    return {
      participants: this.#parse(Object.values(participants), ParticipantSchema, room),
      streams: this.#parse(Object.values(streams), StreamSchema, room),
      nodes,
    };
  }

  async republish(
    room: string,
    nodeId: string,
    participants: MeshParticipant[],
    streams: RemoteStream[],
  ): Promise<void> {
    const k = roomKeys(room);
    const multi = this.#redis.multi();
    for (const p of participants) {
      multi.hset(k.participants, p.id, JSON.stringify(p));
      // After a Redis loss: claim identities nobody holds, never take one over.
      multi.hsetnx(k.identities, p.identity, p.id);
    }
    for (const s of streams) multi.hset(k.streams, s.producerId, JSON.stringify(s));
    this.#touchInto(multi, room, nodeId);
    await multi.exec();
    await this.#index.add(room, nodeId);
  }

  /** Answers whether the room is empty now (its keys removed). */
  async leaveRoom(room: string, nodeId: string): Promise<boolean> {
    const k = roomKeys(room);
    await this.purgeNode(room, nodeId);
    await this.#index.removeFromNode(room, nodeId);
    const [nodes, participants] = await Promise.all([
      this.#redis.hlen(k.nodes),
      this.#redis.hlen(k.participants),
    ]);
    if (nodes === 0 && participants === 0) {
      await this.#redis.del(...Object.values(k));
      await this.#index.remove(room);
      return true;
    }
    return false;
  }

  async purgeNode(
    room: string,
    nodeId: string,
  ): Promise<{ participants: MeshParticipant[]; streams: RemoteStream[] }> {
    const k = roomKeys(room);
    const removed = await this.#scripts.purgeNode(k.participants, k.streams, k.nodes, k.identities, nodeId);
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

  /**
   * Marks the node as carrying the room and (re)starts the TTL of the room's keys. It
   * goes after the writes of the same MULTI: EXPIRE on a key that does not exist yet
   * does nothing, and the hash created after it would never expire.
   */
  #touchInto(multi: ReturnType<Redis['multi']>, room: string, nodeId: string): void {
    const k = roomKeys(room);
    multi.hset(k.nodes, nodeId, Date.now());
    for (const key of Object.values(k)) multi.expire(key, this.#ttlSeconds);
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

  get #scripts(): Scripts {
    return this.#redis as unknown as Scripts;
  }
}
