import { createHash } from 'node:crypto';

/**
 * Every Redis key of the directory, built here and nowhere else. Every key of a room
 * carries the hash tag {room}, so a room lives in one Redis Cluster slot and its
 * multi-key updates run in one MULTI; a node's keys carry {nodeId} likewise.
 */
const PREFIX = 'kaskade';

/** The hashes of one room. */
export const roomKeys = (room: string) => ({
  participants: `${PREFIX}:room:{${room}}:participants`,
  /** identity -> the participant id that holds it (the last to join with it). */
  identities: `${PREFIX}:room:{${room}}:identities`,
  streams: `${PREFIX}:room:{${room}}:streams`,
  nodes: `${PREFIX}:room:{${room}}:nodes`,
});

/**
 * A room's chat (ChatHistory.ts), under the room's state prefix: the message counter
 * (ids grow per room), the channels opened besides `general`, and per channel its
 * bounded history (a list, newest first), the questions marked answered (a set of
 * message ids) and one set of voting identities per question.
 */
export const chatKeys = (room: string) => {
  const chat = roomStateKey(room, 'chat', '').slice(0, -1);
  return {
    seq: `${chat}:seq`,
    channels: `${chat}:channels`,
    messages: (channel: string) => `${chat}:channel:${channel}:messages`,
    answered: (channel: string) => `${chat}:channel:${channel}:answered`,
    /** The identities that upvoted one question. */
    votes: (channel: string, messageId: string) => `${chat}:channel:${channel}:question:${messageId}:votes`,
  };
};

/**
 * A key of a room's state (issue 13's features: moderation, chat, breakouts, webhooks):
 * what a room keeps for as long as it lives, apart from who is in it. Every one of them
 * is under one prefix per room, so one pattern lists them, ends them (endRoom) and
 * shortens their lifetime when the room empties. `feature` and `part` are constants
 * of the feature's module (letters and '-'), never input.
 */
export const roomStateKey = (room: string, feature: string, part: string) =>
  `${PREFIX}:room:{${room}}:state:${feature}:${part}`;

/** The SCAN pattern of every state key of a room (room names carry no glob characters: SafeName). */
export const roomStatePattern = (room: string) => `${PREFIX}:room:{${room}}:state:*`;

/** The keys of moderation's state in a room (RoomGovernance.ts). */
export const governanceKeys = (room: string) => ({
  /** hash: `locked` and each policy -> its JSON value (absent: the default). */
  settings: roomStateKey(room, 'moderation', 'settings'),
  /** set of banned identities. */
  bans: roomStateKey(room, 'moderation', 'bans'),
  /** set of identities admitted once (lock and lobby let them back in). */
  admitted: roomStateKey(room, 'moderation', 'admitted'),
  /** hash: identity -> its lobby entry (JSON, with the node it waits on). */
  lobby: roomStateKey(room, 'moderation', 'lobby'),
  /** hash: `<identity>|<source>` -> 1: the sources a moderator forbade that identity to unmute. */
  forbidden: roomStateKey(room, 'moderation', 'forbidden'),
  /** hash: `<identity>|<source>` -> 1: the sources a moderator muted (selfUnmute off keeps them muted). */
  muted: roomStateKey(room, 'moderation', 'muted'),
});

/**
 * A room's breakout state (issue 13's room state: `kaskade:room:{room}:state:<feature>:…`).
 * `plan`: a main room's breakouts (BreakoutPlan.ts); `parent`: in a breakout room, the
 * main room it belongs to.
 */
export const breakoutKeys = (room: string) => ({
  plan: roomStateKey(room, 'breakouts', 'plan'),
  parent: roomStateKey(room, 'breakouts', 'parent'),
});

/**
 * The webhooks' state of one room (issue 13's room state, under `state:`): `started` is
 * set (NX) when the room gets its first participant and deleted when it has none left,
 * so each start and end is told to the application once whichever replica hears it.
 */
export const webhookStateKeys = (room: string) => ({
  started: roomStateKey(room, 'webhooks', 'started'),
  /** hash: participant id of each lobby wait a lobbyWaiting webhook was made for -> 1. */
  lobbyNoticed: roomStateKey(room, 'webhooks', 'lobby-noticed'),
});

/**
 * The index of rooms: a sorted set scored by when each room's entry expires (ms), so
 * a room nobody refreshes drops out of it on its own, and the key itself expires
 * with the last room. (It was a plain set, `kaskade:rooms`, that never expired.)
 */
export const ROOM_INDEX = `${PREFIX}:room-index`;

/** Node liveness: a sorted set, member a node id, score when its liveness expires (NodeLiveness.ts). */
export const LIVENESS = `${PREFIX}:liveness`;

export const nodeKeys = (nodeId: string) => ({
  /** The rooms a node carries, for cleaning up after it. */
  rooms: `${PREFIX}:node:{${nodeId}}:rooms`,
  /** Held by the control-plane replica that cleans up after a dead node (SET NX). */
  dead: `${PREFIX}:node:{${nodeId}}:dead`,
});

/**
 * The application's capacity reservations (CapacityReservations.ts): one key per
 * reservation, under its own hash tag, and an index of them scored by when each expires
 * (ms), which bounds how many there are.
 */
const RESERVATION_PREFIX = `${PREFIX}:capacity:reservation:`;
export const capacityKeys = {
  reservation: (id: string) => `${RESERVATION_PREFIX}{${id}}`,
  index: `${PREFIX}:capacity:reservations`,
} as const;

/**
 * A used token id, under its own hash tag so token keys spread over a cluster. The jti
 * is the application's or the control plane's string: hashed, it is key-safe and bounded.
 */
export const usedTokenKey = (jti: string) =>
  `${PREFIX}:token:{${createHash('sha256').update(jti).digest('hex')}}:used`;

/** SCAN patterns of the keys the directory lists (Directory.keys). */
export const KEY_PATTERNS = {
  all: `${PREFIX}:*`,
  rooms: `${PREFIX}:room:*`,
  tokens: `${PREFIX}:token:*`,
} as const;

/** What a key holds: the last part of a tagged key (participants, rooms, used...), the index, liveness, or a reservation. */
export function partOf(key: string): string {
  if (key === ROOM_INDEX) return 'index';
  if (key === LIVENESS) return 'liveness';
  if (key === capacityKeys.index) return 'reservations';
  if (key.startsWith(RESERVATION_PREFIX)) return 'reservation';
  return key.slice(key.lastIndexOf(':') + 1);
}
