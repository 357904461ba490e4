// Pure helpers of the SDK, exported for their unit tests only: not part of the API,
// and free to change without notice.

export { consumerStates, ForwardingTracker, forwardingOf } from './forwarding.ts';
export { LastNChoice } from './LastNChoice.ts';
export { RoomModeration } from './RoomModeration.ts';
export { asTicket, backoffMs, edgeGone, isFinalClose, UnreachableEdges } from './recovery.ts';
export { isReceiving, newestByKey, streamKey, waitUntilReceiving } from './switching.ts';
