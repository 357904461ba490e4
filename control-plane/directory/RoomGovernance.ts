import {
  DEFAULT_POLICIES,
  KaskadeError,
  type LobbyEntry,
  MAX_LOBBY_WAITING,
  RoomPolicies,
  type RoomSettings,
  type Source,
  Sources,
} from '@kaskade/protocol';
import type { Redis } from 'ioredis';
import { Compile } from 'typebox/compile';
import { governanceKeys, roomStatePattern } from './keys.ts';
import { scan } from './listKeys.ts';

/** A lobby entry as the directory keeps it: with the node the join waits on. */
export type WaitingEntry = LobbyEntry & { node: string };

/** What a join needs to know of an identity in a room. */
export interface Admission {
  settings: RoomSettings;
  banned: boolean;
  /** Admitted once already: lock and lobby let it in. */
  admitted: boolean;
  /** Sources a moderator forbade it to unmute. */
  forbidden: Source[];
  /** Sources a moderator muted (with selfUnmute off, only a moderator's ask lifts them). */
  muted: Source[];
}

/**
 * Whether a join is refused, the same at the control plane's join and at every edge: a
 * banned identity always, and in a locked room an identity never admitted unless it
 * moderates. Undefined: it may go on (to the lobby, if the room has one).
 */
export function refusalOf(admission: Admission, moderator: boolean): KaskadeError | undefined {
  if (admission.banned) return new KaskadeError('FORBIDDEN', 'this identity is banned from the room');
  if (admission.settings.locked && !admission.admitted && !moderator)
    return new KaskadeError('FORBIDDEN', 'room locked');
  return undefined;
}

/** Whether a join that may go on waits in the lobby first. */
export function waitsInLobby(admission: Admission, moderator: boolean): boolean {
  return admission.settings.policies.lobby && !admission.admitted && !moderator;
}

// Puts a join in the lobby, or (the identity waits already: it came back through
// another edge) moves its entry to the new node, keeping its place and participant id.
// Nil when the lobby is full.
const ENQUEUE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local entry
if raw then
  entry = cjson.decode(raw)
  entry.node = ARGV[3]
else
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return false end
  entry = cjson.decode(ARGV[2])
end
local out = cjson.encode(entry)
redis.call('HSET', KEYS[1], ARGV[1], out)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return out
`;

// Takes the entry of participant ARGV[1] out of the lobby; with ARGV[2] = '1' its identity
// joins the admitted set in the same step. Answers the entry, or nil.
const DECIDE = `
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, entry = pcall(cjson.decode, all[i + 1])
  if ok and entry.participantId == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    if ARGV[2] == '1' then
      redis.call('SADD', KEYS[2], all[i])
      redis.call('EXPIRE', KEYS[2], ARGV[3])
    end
    return all[i + 1]
  end
end
return false
`;

// Takes an identity's entry out of the lobby if it is still participant ARGV[2]'s on node ARGV[3].
const LEAVE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, entry = pcall(cjson.decode, raw)
if ok and (entry.participantId ~= ARGV[2] or entry.node ~= ARGV[3]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

interface Scripts {
  lobbyEnqueue(
    key: string,
    identity: string,
    entry: string,
    node: string,
    ttl: number,
    max: number,
  ): Promise<string | null>;
  lobbyDecide(
    lobby: string,
    admitted: string,
    participantId: string,
    admit: string,
    ttl: number,
  ): Promise<string | null>;
  lobbyLeave(lobby: string, identity: string, participantId: string, node: string): Promise<number>;
}

const checkPolicies = Compile(RoomPolicies);
const POLICY_NAMES = Object.keys(DEFAULT_POLICIES) as (keyof RoomPolicies)[];
const restrictionField = (identity: string, source: Source) => `${identity}|${source}`;

/**
 * Moderation's room state in Redis (`directory.governance`): the lock and policies, the
 * banned and the admitted identities, the lobby queue, and what a moderator muted or
 * forbade to unmute, per identity. Every write restarts the key's expiry at the room-state
 * TTL; the room's end deletes all of it, and an emptied room's state lives only the grace.
 */
export class RoomGovernance {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;
  readonly #graceSeconds: number;

  constructor(redis: Redis, { ttlSeconds, graceSeconds }: { ttlSeconds: number; graceSeconds: number }) {
    this.#redis = redis;
    this.#ttlSeconds = ttlSeconds;
    this.#graceSeconds = graceSeconds;
    redis.defineCommand('lobbyEnqueue', { numberOfKeys: 1, lua: ENQUEUE });
    redis.defineCommand('lobbyDecide', { numberOfKeys: 2, lua: DECIDE });
    redis.defineCommand('lobbyLeave', { numberOfKeys: 1, lua: LEAVE });
  }

  /** The lock and policies in force (defaults for what was never set). */
  async settings(room: string): Promise<RoomSettings> {
    return toSettings(await this.#redis.hgetall(governanceKeys(room).settings));
  }

  async setLocked(room: string, locked: boolean): Promise<RoomSettings> {
    return this.#writeSettings(room, { locked: JSON.stringify(locked) });
  }

  async setPolicies(room: string, policies: Partial<RoomPolicies>): Promise<RoomSettings> {
    const fields = Object.fromEntries(
      Object.entries(policies).flatMap(([name, value]) =>
        value === undefined ? [] : [[name, JSON.stringify(value)]],
      ),
    );
    return this.#writeSettings(room, fields);
  }

  /** Everything a join of `identity` is decided by, in one round trip. */
  async admission(room: string, identity: string): Promise<Admission> {
    const k = governanceKeys(room);
    const [settings, banned, admitted, forbidden, muted] = await Promise.all([
      this.#redis.hgetall(k.settings),
      this.#redis.sismember(k.bans, identity),
      this.#redis.sismember(k.admitted, identity),
      this.#restrictions(k.forbidden, identity),
      this.#restrictions(k.muted, identity),
    ]);
    return {
      settings: toSettings(settings),
      banned: banned === 1,
      admitted: admitted === 1,
      forbidden,
      muted,
    };
  }

  async ban(room: string, identity: string): Promise<void> {
    await this.#addTo(governanceKeys(room).bans, identity);
  }

  async unban(room: string, identity: string): Promise<void> {
    await this.#redis.srem(governanceKeys(room).bans, identity);
  }

  async isBanned(room: string, identity: string): Promise<boolean> {
    return (await this.#redis.sismember(governanceKeys(room).bans, identity)) === 1;
  }

  /** The identities are in the room: lock and lobby let them back in (reconnects, migrations, breakouts). */
  async admit(room: string, ...identities: string[]): Promise<void> {
    if (identities.length === 0) return;
    const key = governanceKeys(room).admitted;
    await this.#redis
      .multi()
      .sadd(key, ...identities)
      .expire(key, this.#ttlSeconds)
      .exec();
  }

  /**
   * A moderator muted `source` of each identity; with `forbid` they may not unmute it
   * until asked to (a mute without forbid leaves an earlier forbid in force).
   */
  async restrict(room: string, identities: string[], source: Source, forbid: boolean): Promise<void> {
    if (identities.length === 0) return;
    const k = governanceKeys(room);
    const fields = identities.flatMap((identity) => [restrictionField(identity, source), '1']);
    const multi = this.#redis
      .multi()
      .hset(k.muted, ...fields)
      .expire(k.muted, this.#ttlSeconds);
    if (forbid) multi.hset(k.forbidden, ...fields).expire(k.forbidden, this.#ttlSeconds);
    await multi.exec();
  }

  /** A moderator asked the identity to unmute `source`: its mute and forbid are lifted. */
  async lift(room: string, identity: string, source: Source): Promise<void> {
    const k = governanceKeys(room);
    const field = restrictionField(identity, source);
    await this.#redis.multi().hdel(k.muted, field).hdel(k.forbidden, field).exec();
  }

  /** The identity unmuted `source` itself (the policy let it): it is no longer muted by a moderator. */
  async clearMuted(room: string, identity: string, source: Source): Promise<void> {
    await this.#redis.hdel(governanceKeys(room).muted, restrictionField(identity, source));
  }

  /**
   * Puts a join in the lobby (an identity waiting already keeps its place and participant
   * id, now on `entry.node`); answers its entry and its position (1 first), or null when
   * the lobby is full.
   */
  async enqueue(
    room: string,
    entry: WaitingEntry,
  ): Promise<{ entry: WaitingEntry; position: number } | null> {
    const raw = await this.#scripts.lobbyEnqueue(
      governanceKeys(room).lobby,
      entry.identity,
      JSON.stringify(entry),
      entry.node,
      this.#ttlSeconds,
      MAX_LOBBY_WAITING,
    );
    if (raw === null) return null;
    const kept = JSON.parse(raw) as WaitingEntry;
    return { entry: kept, position: await this.position(room, kept.identity) };
  }

  /** The joins waiting, first come first (with the node each waits on). */
  async lobby(room: string): Promise<WaitingEntry[]> {
    const raws = Object.values(await this.#redis.hgetall(governanceKeys(room).lobby));
    return raws
      .flatMap((raw) => {
        try {
          return [JSON.parse(raw) as WaitingEntry];
        } catch {
          return [];
        }
      })
      .sort((a, b) => a.since - b.since || (a.identity < b.identity ? -1 : 1));
  }

  /** An identity's place in the lobby (1 first), or 0 when it does not wait. */
  async position(room: string, identity: string): Promise<number> {
    return (await this.lobby(room)).findIndex((e) => e.identity === identity) + 1;
  }

  /** Takes a waiting participant out of the lobby, its identity admitted; null when it does not wait. */
  async admitFromLobby(room: string, participantId: string): Promise<WaitingEntry | null> {
    return this.#decide(room, participantId, true);
  }

  /** Takes a waiting participant out of the lobby, refused; null when it does not wait. */
  async denyFromLobby(room: string, participantId: string): Promise<WaitingEntry | null> {
    return this.#decide(room, participantId, false);
  }

  /** A waiter gave up (its socket closed): its entry goes, unless it waits again elsewhere. */
  async leaveLobby(room: string, identity: string, participantId: string, node: string): Promise<void> {
    await this.#scripts.lobbyLeave(governanceKeys(room).lobby, identity, participantId, node);
  }

  /** The room ended: every state key of the room goes (moderation's and every other feature's). */
  async endRoom(room: string): Promise<void> {
    const keys = await scan(this.#redis, roomStatePattern(room));
    if (keys.length > 0) await this.#redis.del(...keys);
  }

  /** The last node left the room: its state lives on for the grace only (an edge restarting finds it). */
  async graceRoom(room: string): Promise<void> {
    const keys = await scan(this.#redis, roomStatePattern(room));
    if (keys.length === 0) return;
    const multi = this.#redis.multi();
    for (const key of keys) multi.expire(key, this.#graceSeconds);
    await multi.exec();
  }

  async #writeSettings(room: string, fields: Record<string, string>): Promise<RoomSettings> {
    const key = governanceKeys(room).settings;
    const multi = this.#redis.multi();
    if (Object.keys(fields).length > 0) multi.hset(key, fields).expire(key, this.#ttlSeconds);
    const results = await multi.hgetall(key).exec();
    const all = results?.at(-1)?.[1] as Record<string, string> | undefined;
    return toSettings(all ?? {});
  }

  async #addTo(set: string, member: string): Promise<void> {
    await this.#redis.multi().sadd(set, member).expire(set, this.#ttlSeconds).exec();
  }

  async #restrictions(hash: string, identity: string): Promise<Source[]> {
    const values = await this.#redis.hmget(hash, ...Sources.map((s) => restrictionField(identity, s)));
    return Sources.filter((_, i) => values[i] !== null);
  }

  async #decide(room: string, participantId: string, admit: boolean): Promise<WaitingEntry | null> {
    const k = governanceKeys(room);
    const raw = await this.#scripts.lobbyDecide(
      k.lobby,
      k.admitted,
      participantId,
      admit ? '1' : '0',
      this.#ttlSeconds,
    );
    return raw === null ? null : (JSON.parse(raw) as WaitingEntry);
  }

  get #scripts(): Scripts {
    return this.#redis as unknown as Scripts;
  }
}

/** The settings from their hash: every field a JSON value; a malformed or missing one is the default. */
function toSettings(fields: Record<string, string>): RoomSettings {
  const parse = (raw: string | undefined): unknown => {
    try {
      return raw === undefined ? undefined : JSON.parse(raw);
    } catch {
      return undefined;
    }
  };
  const policies: RoomPolicies = { ...DEFAULT_POLICIES };
  for (const name of POLICY_NAMES) {
    const candidate = { ...policies, [name]: parse(fields[name]) ?? policies[name] };
    if (checkPolicies.Check(candidate)) Object.assign(policies, candidate);
  }
  return { locked: parse(fields.locked) === true, policies };
}
