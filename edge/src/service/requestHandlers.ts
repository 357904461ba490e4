import type { Method, RequestData, ResponseData, RoomActionName } from '@kaskade/protocol';
import { KaskadeError, ROOM_ACTION_NAMES, RoomActions } from '@kaskade/protocol';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { SessionContext, SignalingSession } from './SignalingSession.ts';

export type Handler<M extends Method> = (
  session: SignalingSession,
  data: RequestData<M>,
) => Promise<ResponseData<M>>;
type Handlers = { [M in Method]: Handler<M> };

/** The requests a joined participant makes, forwarded to its rtc Participant. */
export const handlers: Handlers = {
  getRouterRtpCapabilities: async (s) => ({ rtpCapabilities: s.context.rtpCapabilities }),
  join: (s, data) => s.join(data),
  createTransport: (s, data) => s.participant.createTransport(data),
  createPlainTransport: (s, data) => s.participant.createPlainTransport(data),
  connectPlainTransport: (s, data) => done(s.participant.connectPlainTransport(data)),
  connectTransport: (s, data) => done(s.participant.connectTransport(data)),
  restartIce: (s, data) => {
    s.throttle('restartIce');
    s.context.metrics.iceRestarted();
    return s.participant.restartIce(data);
  },
  produce: (s, data) => s.participant.produce(data),
  pauseProducer: (s, data) => done(s.participant.pauseProducer(data)),
  resumeProducer: (s, data) => done(s.participant.resumeProducer(data)),
  closeProducer: (s, data) => done(s.participant.closeProducer(data)),
  consume: (s, data) => {
    const { maxConsumers } = s.context.limits;
    if (s.participant.consumerCount >= maxConsumers) {
      s.context.metrics.refused('consumer_cap');
      throw new KaskadeError('INVALID_STATE', `at most ${maxConsumers} streams at once; close one first`);
    }
    s.throttle('consume');
    return s.participant.consume(data);
  },
  pauseConsumer: (s, data) => done(s.participant.pauseConsumer(data)),
  resumeConsumer: (s, data) => done(s.participant.resumeConsumer(data)),
  closeConsumer: (s, data) => done(s.participant.closeConsumer(data)),
  setPreferredLayers: (s, data) => done(s.participant.setPreferredLayers(data)),
  setLastN: async (s, { n, pinned }) => {
    const capped = Math.min(n, s.context.limits.lastNMax);
    s.participant.setLastN({ n: capped, pinned });
    return { n: capped };
  },
  raiseHand: (s) => done(s.room.stage.raiseHand(s.participant)),
  lowerHand: (s, { participantId }) => done(s.room.stage.lowerHand(s.participant, participantId)),
  listHands: async (s) => ({ hands: s.room.stage.hands(s.participant) }),
  setRole: (s, { participantId, role }) => done(s.room.stage.setRole(s.participant, participantId, role)),
  listParticipants: async (s, { after, limit }) => s.room.stage.listParticipants(s.participant, after, limit),
  leave: (s) => done(s.leave()),
  sendChat: (s, data) => s.room.chat.send(s.participant, data),
  chatHistory: (s, data) => s.room.chat.history(s.participant, data),
  listChannels: (s) => s.room.chat.channelsFor(s.participant),
  upvoteQuestion: (s, data) => s.room.chat.upvote(s.participant, data),
  listQuestions: (s, data) => s.room.chat.questions(s.participant, data),
  roomSettings: async (s) => s.room.rules.settings,
  listLobby: async (s) => {
    if (!s.participant.grants.moderate) throw new KaskadeError('FORBIDDEN', 'only moderators see the lobby');
    return { waiting: await s.room.lobby.list() };
  },
  breakoutState: (s) => s.room.breakouts.state(s.participant),
  askForHelp: (s) => done(s.room.breakouts.askForHelp(s.participant)),
  ...actionForwarders(),
};

/** What forwarding a room action needs of a session: who asks, in which room, and the way to the control plane. */
export interface ActingSession {
  participant: { id: string; grants: { moderate?: boolean } };
  room: { name: string };
  context: { act?: SessionContext['act'] };
}

/**
 * Room actions (protocol/room-actions.ts) are executed by the control plane, never
 * here: a moderator's request is forwarded over room.act as that participant (the
 * control plane checks this edge hosts it) and the answer, once checked against the
 * action's schema, returned. Without the `moderate` grant: FORBIDDEN, nothing sent.
 */
export function roomActionForwarder(action: RoomActionName, response: TSchema) {
  const answerCheck = Compile(response);
  return async (s: ActingSession, params: unknown): Promise<unknown> => {
    if (!s.participant.grants.moderate)
      throw new KaskadeError('FORBIDDEN', `${action} needs the moderate grant`);
    const act = s.context.act;
    if (!act) throw new KaskadeError('UNAVAILABLE', 'room actions need the control plane');
    const answer = await act(s.room.name, s.participant.id, action, params);
    if (!answerCheck.Check(answer)) throw new KaskadeError('INTERNAL', `${action}: malformed answer`);
    return answer;
  };
}

function actionForwarders(): { [A in RoomActionName]: Handler<A> } {
  const schemas = RoomActions as Record<string, { response: TSchema }>;
  const entries = ROOM_ACTION_NAMES.map((action) => [
    action,
    roomActionForwarder(action, schemas[action]!.response),
  ]);
  return Object.fromEntries(entries) as unknown as { [A in RoomActionName]: Handler<A> };
}

/** Waits for a request's work and answers it with an empty object. */
async function done(work: unknown): Promise<Record<string, never>> {
  await work;
  return {};
}
