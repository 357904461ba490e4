import type { Redis } from 'ioredis';
import { nodeKeys, ROOM_INDEX, roomKeys } from './keys.ts';

type Multi = ReturnType<Redis['multi']>;

/**
 * Which rooms exist and which rooms each node carries: the room index (a sorted set
 * scored by when each room's entry expires) and one set of rooms per node. Both expire
 * unless the nodes carrying the rooms refresh them, so a crashed cluster cleans up
 * after itself.
 */
export class RoomIndex {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, ttlSeconds: number) {
    this.#redis = redis;
    this.#ttlSeconds = ttlSeconds;
  }

  /** The rooms some node has refreshed within the TTL. */
  async rooms(): Promise<string[]> {
    return (await this.#redis.zrangebyscore(ROOM_INDEX, Date.now(), '+inf')).sort();
  }

  /** The rooms a node carried, for cleaning up after it. */
  async roomsOfNode(nodeId: string): Promise<string[]> {
    return this.#redis.smembers(nodeKeys(nodeId).rooms);
  }

  async forgetNode(nodeId: string): Promise<void> {
    await this.#redis.del(nodeKeys(nodeId).rooms);
  }

  /** The keys of the rooms a node carries stay alive another TTL, and so do their index entries. */
  async refresh(rooms: string[], nodeId: string): Promise<void> {
    const multi = this.#redis.multi();
    for (const room of rooms)
      for (const key of Object.values(roomKeys(room))) multi.expire(key, this.#ttlSeconds);
    multi.expire(nodeKeys(nodeId).rooms, this.#ttlSeconds);
    this.#indexInto(multi, rooms);
    multi.zremrangebyscore(ROOM_INDEX, '-inf', Date.now()); // rooms of crashed nodes
    await multi.exec();
  }

  /** The node carries the room, and the room is in the index for another TTL. */
  async add(room: string, nodeId: string): Promise<void> {
    const rooms = nodeKeys(nodeId).rooms;
    const multi = this.#redis.multi().sadd(rooms, room).expire(rooms, this.#ttlSeconds);
    this.#indexInto(multi, [room]);
    await multi.exec();
  }

  /** The node no longer carries the room. */
  async removeFromNode(room: string, nodeId: string): Promise<void> {
    await this.#redis.srem(nodeKeys(nodeId).rooms, room);
  }

  /** The room is gone (its last node left it). */
  async remove(room: string): Promise<void> {
    await this.#redis.zrem(ROOM_INDEX, room);
  }

  /** Lists rooms in the index until a TTL from now; the index key lives as long as its newest entry. */
  #indexInto(multi: Multi, rooms: string[]): void {
    const until = Date.now() + this.#ttlSeconds * 1000;
    // GT: a node with a shorter TTL never shortens another's (GT still adds new members).
    multi.zadd(ROOM_INDEX, 'GT', ...rooms.flatMap((room) => [until, room]));
    // EXPIRE GT skips a key without a TTL (a new one), NX sets only that: together, "at least".
    multi.expire(ROOM_INDEX, this.#ttlSeconds, 'GT');
    multi.expire(ROOM_INDEX, this.#ttlSeconds, 'NX');
  }
}
