// @kaskade/directory: the room state every node shares, in Redis. Every key is
// spelled in keys.ts and nowhere else, and the Redis client is the Directory's own.

export type { BreakoutPlan, PlanChange } from './BreakoutPlan.ts';
export { StoredBreakouts } from './BreakoutPlan.ts';
export type { CapacityReservations } from './CapacityReservations.ts';
export type { ChatDraft, ChatHistory, QuestionState } from './ChatHistory.ts';
export { Directory } from './Directory.ts';
export type { DirectoryKey, KeyScope } from './listKeys.ts';
export type { LivenessSnapshot } from './NodeLiveness.ts';
export type { Admission, RoomGovernance, WaitingEntry } from './RoomGovernance.ts';
export { refusalOf, waitsInLobby } from './RoomGovernance.ts';
