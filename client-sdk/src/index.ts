export type { BreakoutRoom, BreakoutState, Grants, HandInfo, Role, Source } from '@kaskade/protocol';
export type { BreakoutAssignment, Breakouts } from './Breakouts.ts';
export { type MeetingLayout, type MeetingLayoutInput, meetingLayout } from './layout.ts';
export { Room } from './Room.ts';
export { ConnectionClosedError, RequestError, SignalingChannel } from './SignalingChannel.ts';
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
