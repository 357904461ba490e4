export type { Role, Source } from '../../control-plane/protocol/media.ts';
export type { HandInfo } from '../../control-plane/protocol/signaling.ts';
export type { Grants } from '../../control-plane/protocol/token.ts';
export { Room } from './Room.ts';
export { ConnectionClosedError, RequestError, SignalingChannel } from './SignalingChannel.ts';
export type {
  ConnectionState,
  ConnectOptions,
  JoinTicket,
  LocalPublication,
  PublishOptions,
  Quality,
  RemoteParticipant,
  RemoteTrack,
  TicketProvider,
  TicketRequest,
} from './types.ts';
