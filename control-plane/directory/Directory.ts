import { readFileSync } from 'node:fs';
import {
  labelCombinations,
  preinitialisedCounter,
  preinitialisedHistogram,
  settlesWithin,
} from '@kaskade/node-toolkit';
import type { MeshParticipant, RemoteStream } from '@kaskade/protocol';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { BreakoutPlan } from './BreakoutPlan.ts';
import { CAPACITY_OPERATIONS, CapacityReservations } from './CapacityReservations.ts';
import { CHAT_OPERATIONS, ChatHistory } from './ChatHistory.ts';
import { usedTokenKey } from './keys.ts';
import { type DirectoryKey, type KeyScope, listKeys } from './listKeys.ts';
import { LIVENESS_OPERATIONS, NodeLiveness } from './NodeLiveness.ts';
import { RoomEntries, type RoomState } from './RoomEntries.ts';
import { RoomGovernance } from './RoomGovernance.ts';
import { RoomIndex } from './RoomIndex.ts';
import { RoomLifecycle } from './RoomLifecycle.ts';

export interface DirectoryOptions {
  /** Directory keys expire unless refreshed within this time. */
  ttlSeconds?: number;
  /** How long this node's liveness lasts after each refresh (a node's own Directory). */
  livenessTtlMs?: number;
  /** PEM file of the CA that signed the Redis server's certificate (rediss:// with a private CA). */
  caFile?: string;
  /** Where to report operation latency, failures and connectivity. */
  registry?: Registry;
  /**
   * The lifetime every write gives a room's state keys (chat, moderation, breakouts):
   * KASKADE_ROOM_STATE_TTL_SECONDS, default a day.
   */
  roomStateTtlSeconds?: number;
  /** How long a room's state lives once the last node left the room. */
  roomStateGraceSeconds?: number;
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
  'roomNodes',
  'rooms',
  'refresh',
  'republish',
  'leaveRoom',
  'purgeNode',
  'roomsOfNode',
  'forgetNode',
  'useTokenOnce',
] as const satisfies readonly (keyof Directory)[];

/**
 * The shared room directory in Redis: who is in a room, which streams it has and
 * on which node each originates, which nodes carry it (RoomEntries), which rooms exist
 * and which each node carries (RoomIndex), which nodes are alive (NodeLiveness), which
 * tokens were used. Every key expires unless the nodes carrying it refresh it, so a
 * crashed cluster cleans up after itself; every key is spelled in keys.ts. The Redis
 * client is this class's own: callers get methods, never the client.
 */
export class Directory {
  readonly #redis: Redis;
  /** Which nodes are alive, in the same Redis (NodeLiveness.ts). */
  readonly liveness: NodeLiveness;
  /** The rooms' chat: channels, bounded histories, votes (ChatHistory.ts). */
  readonly chat: ChatHistory;
  /** Moderation's room state: lock, policies, bans, admitted identities, lobby, mutes (RoomGovernance.ts). */
  readonly governance: RoomGovernance;
  /** When each room starts and ends, for the webhooks (RoomLifecycle.ts). */
  readonly lifecycle: RoomLifecycle;
  /** Main rooms' breakout plans and the breakout rooms' parents (BreakoutPlan.ts). */
  readonly breakouts: BreakoutPlan;
  /** The application's pre-warm reservations, for the autoscaler (CapacityReservations.ts). */
  readonly capacity: CapacityReservations;
  readonly #entries: RoomEntries;
  readonly #index: RoomIndex;
  readonly #livenessTtlMs: number;

  constructor(
    url: string,
    logger: Logger,
    {
      ttlSeconds = 60,
      livenessTtlMs = 6000,
      registry,
      caFile,
      roomStateTtlSeconds = 86_400,
      roomStateGraceSeconds = 120,
    }: DirectoryOptions = {},
  ) {
    // Commands wait while Redis is away (offline queue) and the client reconnects forever;
    // callers treat a failed command as "directory unavailable", never as fatal.
    // Credentials come in the URL (redis://user:password@host); rediss:// turns TLS on.
    this.#redis = new Redis(url, {
      maxRetriesPerRequest: 2,
      retryStrategy: (n) => Math.min(n * 100, 2000),
      lazyConnect: false,
      // The file was checked when the config loaded (redisCaProblems).
      ...(caFile ? { tls: { ca: readFileSync(caFile) } } : {}),
    });
    this.#redis.on('error', (err) => logger.debug({ err }, 'redis error'));
    this.#livenessTtlMs = livenessTtlMs;
    this.liveness = new NodeLiveness(this.#redis);
    this.governance = new RoomGovernance(this.#redis, {
      ttlSeconds: roomStateTtlSeconds,
      graceSeconds: roomStateGraceSeconds,
    });
    this.lifecycle = new RoomLifecycle(this.#redis, roomStateTtlSeconds);
    this.chat = new ChatHistory(this.#redis, { ttlSeconds: roomStateTtlSeconds, logger });
    this.breakouts = new BreakoutPlan(this.#redis, { ttlSeconds: roomStateTtlSeconds });
    this.capacity = new CapacityReservations(this.#redis);
    this.#index = new RoomIndex(this.#redis, ttlSeconds);
    this.#entries = new RoomEntries(this.#redis, this.#index, ttlSeconds, logger);
    if (registry) this.#instrument(registry);
  }

  /** The state of the Redis connection: 'ready' when commands reach the server. */
  get status(): string {
    return this.#redis.status;
  }

  /** Calls `listener` whenever the connection to Redis is ready: at first and after every reconnect. */
  onReady(listener: () => void): void {
    this.#redis.on('ready', listener);
  }

  /** Adds (or updates) a participant; its identity now belongs to it, in the same transaction. */
  addParticipant(room: string, participant: MeshParticipant): Promise<void> {
    return this.#entries.addParticipant(room, participant);
  }

  /**
   * Removes a participant that node `nodeId` hosts; false when the directory has it on
   * another node (it moved there: a migration or a reconnect), which is left alone.
   */
  removeParticipant(room: string, participantId: string, nodeId: string): Promise<boolean> {
    return this.#entries.removeParticipant(room, participantId, nodeId);
  }

  /** One participant's entry, or null (absent or malformed). */
  participant(room: string, participantId: string): Promise<MeshParticipant | null> {
    return this.#entries.participant(room, participantId);
  }

  /** The participant id that holds an identity in a room (the last to join with it), or null. */
  identityOwner(room: string, identity: string): Promise<string | null> {
    return this.#entries.identityOwner(room, identity);
  }

  addStream(room: string, stream: RemoteStream): Promise<void> {
    return this.#entries.addStream(room, stream);
  }

  removeStream(room: string, producerId: string): Promise<void> {
    return this.#entries.removeStream(room, producerId);
  }

  setStreamPaused(room: string, producerId: string, paused: boolean): Promise<void> {
    return this.#entries.setStreamPaused(room, producerId, paused);
  }

  /** Everything known about a room; entries that fail their schema are dropped and logged. */
  room(room: string): Promise<RoomState> {
    return this.#entries.room(room);
  }

  /**
   * The nodes that carry a room, without its participants and streams: what placement
   * needs, at a cost that does not grow with the audience (a lecture's thousands of joins).
   */
  roomNodes(room: string): Promise<string[]> {
    return this.#entries.roomNodes(room);
  }

  /** The rooms some node has refreshed within the TTL. */
  rooms(): Promise<string[]> {
    return this.#index.rooms();
  }

  /**
   * On each heartbeat of a node: its liveness lasts another TTL, and the keys of the
   * rooms it carries stay alive (keys lost with Redis stay lost until republish). A
   * relay carries no room keys: it passes no rooms and writes only its liveness.
   */
  async refresh(rooms: string[], nodeId: string): Promise<void> {
    const beat = this.liveness.beat(nodeId, this.#livenessTtlMs);
    if (rooms.length === 0) return beat;
    await Promise.all([beat, this.#index.refresh(rooms, nodeId)]);
  }

  /**
   * Writes everything a node holds in a room, in one transaction: a node listed in a
   * room's nodes hash always has all its entries there (resync relies on it).
   */
  republish(
    room: string,
    nodeId: string,
    participants: MeshParticipant[],
    streams: RemoteStream[],
  ): Promise<void> {
    return this.#entries.republish(room, nodeId, participants, streams);
  }

  /**
   * This node no longer carries the room; the last node out removes the room's keys and
   * leaves its state (governance, chat, breakouts) the grace to live: an edge restarting
   * finds it, an empty room's goes soon.
   */
  async leaveRoom(room: string, nodeId: string): Promise<void> {
    if (await this.#entries.leaveRoom(room, nodeId)) await this.governance.graceRoom(room);
  }

  /** Removes a node's participants and streams from one room; returns them. */
  purgeNode(
    room: string,
    nodeId: string,
  ): Promise<{ participants: MeshParticipant[]; streams: RemoteStream[] }> {
    return this.#entries.purgeNode(room, nodeId);
  }

  /** The rooms a node carried, for cleaning up after it. */
  roomsOfNode(nodeId: string): Promise<string[]> {
    return this.#index.roomsOfNode(nodeId);
  }

  forgetNode(nodeId: string): Promise<void> {
    return this.#index.forgetNode(nodeId);
  }

  /**
   * Records a token id as used, until the token expires anyway (at least a second):
   * true the first time, false for any later use. One SET NX, so two edges racing
   * with the same token cannot both win.
   */
  async useTokenOnce(jti: string, expiresAtSeconds: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(expiresAtSeconds - Date.now() / 1000));
    return (await this.#redis.set(usedTokenKey(jti), '1', 'EX', ttl, 'NX')) === 'OK';
  }

  /**
   * The directory's keys in Redis with what each holds and its remaining lifetime: of one
   * room, of one node, of every room, the used tokens, or all of them. For checking that
   * what leaves leaves nothing behind and that everything expires.
   */
  keys(scope?: KeyScope): Promise<DirectoryKey[]> {
    return listKeys(this.#redis, scope);
  }

  /** QUIT, or after a short wait for it (Redis away, the client reconnecting) the socket closed outright. */
  async close(): Promise<void> {
    if (!(await settlesWithin(this.#redis.quit(), 2000))) this.#redis.disconnect();
  }

  /** Times every directory operation and counts its failures; reports whether Redis is reachable. */
  #instrument(registry: Registry): void {
    const registers = [registry];
    const redis = this.#redis;
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
      ...CHAT_OPERATIONS.map((name) => ({ target: this.chat, name, operation: `chat.${name}` })),
      ...CAPACITY_OPERATIONS.map((name) => ({ target: this.capacity, name, operation: `capacity.${name}` })),
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
}
