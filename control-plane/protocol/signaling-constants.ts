// Constants of the signaling protocol, kept apart from its schemas so the browser
// SDK can import them without bundling the schema library.
export const SIGNALING_PATH = '/v1/signal';
export const SIGNALING_SUBPROTOCOL = 'kaskade.v1';

/** WebSocket close codes the edge uses (4000-4999 are the application's). */
export const CloseCodes = {
  normal: 1000,
  goingAway: 1001, // the edge is shutting down
  unauthorized: 4401, // bad, expired or missing token
  joinTimeout: 4408, // no join within the deadline
  replaced: 4409, // the same identity joined the room again elsewhere
  roomClosed: 4410,
  removed: 4403, // a moderator removed the participant, or refused its join from the lobby
  meetingEnded: 4411, // a moderator ended the meeting for everyone
  tooManyBeforeJoin: 4400, // kept sending requests other than join before joining
  slowReader: 4413, // did not read its messages: the edge's output buffer passed its bound
  internal: 4500,
} as const;

/** Most participants a `setLastN` request may pin. */
export const MAX_PINNED = 16;
