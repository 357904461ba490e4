// @kaskade/edge: the edge service (signaling, rooms, the mesh of other nodes).
// Started by main.ts.
export { EdgeConfigSchema, loadEdgeConfig } from './config.ts';
export { Edge } from './Edge.ts';
export { upstreamFor } from './routing/distributionTree.ts';
export { takeCensus } from './rtc/census.ts';
export type { ChatPolicies, Chatter } from './rtc/chatRules.ts';
export {
  chatRefusal,
  historyPage,
  maySeeChannel,
  maySeeMessage,
  rankQuestions,
} from './rtc/chatRules.ts';
export type { LastNChoice, VideoCandidate } from './rtc/LastNRule.ts';
export { ALL_VIDEO, inLastN, lastNParticipants } from './rtc/LastNRule.ts';
export type { RoomRulesOptions, RulesLink } from './rtc/RoomRules.ts';
export { RoomRules } from './rtc/RoomRules.ts';
export type { HeardLevel, SpeakerRules, Speakers } from './rtc/SpeakerOrder.ts';
export { NO_SPEAKERS, nextSpeakers } from './rtc/SpeakerOrder.ts';
export { STAGE_SOURCES, stageGrants } from './rtc/Stage.ts';
export type { ActingSession } from './service/requestHandlers.ts';
export { roomActionForwarder } from './service/requestHandlers.ts';
