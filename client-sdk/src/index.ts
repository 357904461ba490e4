export type {
  BreakoutRoom,
  BreakoutState,
  ChatChannel,
  ChatMessage,
  Grants,
  HandInfo,
  LobbyEntry,
  Role,
  RoomActionName,
  RoomPolicies,
  RoomSettings,
  Source,
} from '@kaskade/protocol';
export type { Act } from './act.ts';
export type { BreakoutAssignment, Breakouts } from './Breakouts.ts';
export { type MeetingLayout, type MeetingLayoutInput, meetingLayout } from './layout.ts';
export { Room } from './Room.ts';
export { GENERAL, type QuestionUpdate, RoomChat, type RoomChatEvents, type SendOptions } from './RoomChat.ts';
export {
  ConnectionClosedError,
  RequestError,
  type RequestOptions,
  SignalingChannel,
} from './SignalingChannel.ts';
export type {
  ConnectionState,
  ConnectOptions,
  DisplaySize,
  ForwardingReason,
  JoinTicket,
  LocalPublication,
  PublishOptions,
  Quality,
  RemoteParticipant,
  RemoteTrack,
  TicketProvider,
  TicketRequest,
  VideoForwarding,
} from './types.ts';
