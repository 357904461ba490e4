// The SDK's sources for the monorepo itself, not published: pure helpers exported for
// their unit tests, and the signaling client again for Node tools run from the sources
// without a build (the load bots; `.` is the built bundle outside vitest and tsc). Not
// part of the API, and free to change without notice.

export { consumerStates, ForwardingTracker, forwardingOf } from './forwarding.ts';
export { LastNChoice } from './LastNChoice.ts';
export { RoomModeration } from './RoomModeration.ts';
export { Roster } from './Roster.ts';
export { asTicket, backoffMs, edgeGone, isFinalClose, UnreachableEdges } from './recovery.ts';
export { RequestError, SignalingChannel } from './SignalingChannel.ts';
export { isReceiving, newestByKey, streamKey, waitUntilReceiving } from './switching.ts';
