import type { Logger } from 'pino';
import { Compile, type Validator } from 'typebox/compile';
import type { WebSocket } from 'ws';
import { type ErrorCode, KaskadeError } from '../../../control-plane/common/errors.ts';
import type { TokenVerifier } from '../../../control-plane/common/tokens.ts';
import {
  CloseCodes,
  type Method,
  type NotificationFrame,
  type RequestData,
  RequestFrame,
  Requests,
  type ResponseData,
  type ResponseFrame,
} from '../../../control-plane/protocol/signaling.ts';
import type { LeaveReason, Participant } from '../rtc/Participant.ts';
import type { Room } from '../rtc/Room.ts';
import type { RoomManager } from '../rtc/RoomManager.ts';
import type { EdgeMetrics } from './edgeMetrics.ts';
import { toKaskadeError } from './errors.ts';

export interface SessionContext {
  nodeId: string;
  metrics: EdgeMetrics;
  rooms: RoomManager;
  verifier: TokenVerifier;
  rtpCapabilities: ResponseData<'getRouterRtpCapabilities'>['rtpCapabilities'];
  joinTimeoutMs: number;
  maxMessageBytes: number;
  logger: Logger;
}

const checkFrame = Compile(RequestFrame);
const validators = Object.fromEntries(
  Object.entries(Requests).map(([method, { request }]) => [method, Compile(request)]),
) as unknown as Record<Method, Validator>;

const MAX_IN_FLIGHT = 32;
const PING_INTERVAL_MS = 15_000;

const closeCodeFor: Record<Exclude<LeaveReason, 'disconnected'>, number> = {
  left: CloseCodes.normal,
  replaced: CloseCodes.replaced,
  'room-closed': CloseCodes.roomClosed,
  shutdown: CloseCodes.goingAway,
};

type Handler<M extends Method> = (
  session: SignalingSession,
  data: RequestData<M>,
) => Promise<ResponseData<M>>;
type Handlers = { [M in Method]: Handler<M> };

/** The requests a joined participant makes, forwarded to its rtc Participant. */
const handlers: Handlers = {
  getRouterRtpCapabilities: async (s) => ({ rtpCapabilities: s.context.rtpCapabilities }),
  join: (s, data) => s.join(data),
  createTransport: (s, data) => s.participant.createTransport(data),
  createPlainTransport: (s, data) => s.participant.createPlainTransport(data),
  connectPlainTransport: (s, data) => done(s.participant.connectPlainTransport(data)),
  connectTransport: (s, data) => done(s.participant.connectTransport(data)),
  restartIce: (s, data) => {
    s.context.metrics.iceRestarted();
    return s.participant.restartIce(data);
  },
  produce: (s, data) => s.participant.produce(data),
  pauseProducer: (s, data) => done(s.participant.pauseProducer(data)),
  resumeProducer: (s, data) => done(s.participant.resumeProducer(data)),
  closeProducer: (s, data) => done(s.participant.closeProducer(data)),
  consume: (s, data) => s.participant.consume(data),
  pauseConsumer: (s, data) => done(s.participant.pauseConsumer(data)),
  resumeConsumer: (s, data) => done(s.participant.resumeConsumer(data)),
  closeConsumer: (s, data) => done(s.participant.closeConsumer(data)),
  setPreferredLayers: (s, data) => done(s.participant.setPreferredLayers(data)),
  raiseHand: (s) => done(s.room.raiseHand(s.participant)),
  lowerHand: (s, { participantId }) => done(s.room.lowerHand(s.participant, participantId)),
  listHands: async (s) => ({ hands: s.room.hands(s.participant) }),
  setRole: (s, { participantId, role }) => done(s.room.setRole(s.participant, participantId, role)),
  listParticipants: async (s, { after, limit }) => s.room.listParticipants(s.participant, after, limit),
  leave: (s) => done(s.leave()),
};

/** Waits for a request's work and answers it with an empty object. */
async function done(work: unknown): Promise<Record<string, never>> {
  await work;
  return {};
}

const allowedBeforeJoin = new Set<Method>(['getRouterRtpCapabilities', 'join']);

/**
 * One signaling WebSocket. Requests run one after another, in arrival order, so a
 * client may pipeline them; every failure is answered with a typed error and the
 * connection stays usable, except for a bad token, which closes it (4401).
 */
export class SignalingSession {
  readonly context: SessionContext;
  readonly #socket: WebSocket;
  readonly #logger: Logger;
  #participant: Participant | undefined;
  #room: Room | undefined;
  #joining = false;
  #queue: Promise<void> = Promise.resolve();
  #inFlight = 0;
  #held: NotificationFrame[] | null = null;
  #alive = true;
  readonly #joinTimer: NodeJS.Timeout;
  readonly #openedAt = performance.now();
  readonly #pingTimer: NodeJS.Timeout;

  constructor(socket: WebSocket, context: SessionContext) {
    this.#socket = socket;
    this.context = context;
    this.#logger = context.logger;
    this.#joinTimer = setTimeout(() => {
      if (this.#participant) return;
      this.context.metrics.joinFailed('TIMEOUT');
      this.#close(CloseCodes.joinTimeout, 'join timeout');
    }, context.joinTimeoutMs);
    // A peer that vanished without a FIN is found by its missing pong.
    this.#pingTimer = setInterval(() => {
      if (!this.#alive) return this.#socket.terminate();
      this.#alive = false;
      this.#socket.ping();
    }, PING_INTERVAL_MS);
    socket.on('pong', () => {
      this.#alive = true;
    });
    context.metrics.websockets.inc();
    socket.on('message', (raw, isBinary) => this.#onMessage(raw as Buffer, isBinary));
    socket.on('close', () => this.#onClose());
    socket.on('error', (err) => this.#logger.debug({ err }, 'websocket error'));
  }

  get room(): Room {
    if (!this.#room) throw new KaskadeError('INVALID_STATE', 'join first');
    return this.#room;
  }

  get participant(): Participant {
    if (!this.#participant) throw new KaskadeError('INVALID_STATE', 'join first');
    return this.#participant;
  }

  async join({ token, rtpCapabilities, reconnect }: RequestData<'join'>): Promise<ResponseData<'join'>> {
    if (this.#participant || this.#joining) throw new KaskadeError('INVALID_STATE', 'joined already');
    this.#joining = true;
    const joinRequestedAt = performance.now();
    try {
      const claims = await this.#verify(token);
      const room = await this.context.rooms.getOrCreate(claims.room);
      const participant = await room.join(claims, rtpCapabilities).catch((error: unknown) => {
        this.context.metrics.joinFailed(toKaskadeError(error).code);
        throw error;
      });
      this.#participant = participant;
      this.#room = room;
      this.context.metrics.joined(
        participant,
        { socketOpenedAt: this.#openedAt, joinRequestedAt },
        reconnect === true,
      );
      clearTimeout(this.#joinTimer);
      this.#held = [];
      participant.on('notification', (notification, data) => this.#send({ notification, data }));
      participant.observer.once('close', (reason) => {
        if (reason === 'disconnected') return;
        // 'left' closes after the answer to the leave request has gone out.
        if (reason === 'left') setImmediate(() => this.#close(closeCodeFor[reason], reason));
        else this.#close(closeCodeFor[reason], reason);
      });
      return {
        self: participant.info(),
        room: room.name,
        grants: participant.grants,
        participants: room.participantsFor(participant),
        streams: room.streamsFor(participant),
        activeSpeaker: room.activeSpeaker,
        lecture: room.lecture,
        participantCount: room.participantTotal,
      };
    } finally {
      this.#joining = false;
    }
  }

  /** The token's claims, or (counted, answered, then the socket closed with 4401) why not. */
  async #verify(token: string) {
    try {
      const claims = await this.context.verifier.verify(token);
      if (claims.node && claims.node !== this.context.nodeId) {
        throw new KaskadeError('UNAUTHORIZED', `this token is for edge ${claims.node}`);
      }
      return claims;
    } catch (error) {
      this.context.metrics.joinFailed(toKaskadeError(error).code);
      // Answer first, then close: the client learns why.
      setImmediate(() => this.#close(CloseCodes.unauthorized, 'unauthorized'));
      throw error;
    }
  }

  leave(): void {
    this.participant.close('left');
  }

  #onMessage(raw: Buffer, isBinary: boolean): void {
    const frame = this.#parse(raw, isBinary);
    if (!frame) return;
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      this.#fail(frame.id, 'UNAVAILABLE', 'too many requests in flight');
      return;
    }
    this.#inFlight++;
    this.#queue = this.#queue.then(() => this.#handle(frame)).finally(() => this.#inFlight--);
  }

  /** A request frame, or undefined after answering why the message is not one. */
  #parse(raw: Buffer, isBinary: boolean): RequestFrame | undefined {
    if (isBinary) {
      this.#fail(null, 'BAD_REQUEST', 'binary frames are not accepted');
      return undefined;
    }
    if (raw.byteLength > this.context.maxMessageBytes) {
      this.#fail(null, 'MESSAGE_TOO_LARGE', `messages are limited to ${this.context.maxMessageBytes} bytes`);
      return undefined;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(raw.toString('utf8'));
    } catch {
      this.#fail(null, 'BAD_REQUEST', 'not JSON');
      return undefined;
    }
    if (checkFrame.Check(frame)) return frame;
    const id = (frame as { id?: unknown } | null)?.id;
    this.#fail(
      Number.isSafeInteger(id) ? (id as number) : null,
      'BAD_REQUEST',
      'not a request frame {id, method, data}',
    );
    return undefined;
  }

  async #handle({ id, method, data }: RequestFrame): Promise<void> {
    try {
      if (!Object.hasOwn(Requests, method))
        throw new KaskadeError('UNKNOWN_METHOD', `unknown method ${method}`);
      const m = method as Method;
      if (!this.#participant && !allowedBeforeJoin.has(m))
        throw new KaskadeError('INVALID_STATE', 'join first');
      const payload = data ?? {};
      const validator = validators[m];
      if (!validator.Check(payload)) {
        const first = validator.Errors(payload)[0];
        throw new KaskadeError(
          'BAD_REQUEST',
          `${m}: ${first?.instancePath || '/'} ${first?.message ?? 'invalid'}`,
        );
      }
      const result = await (handlers[m] as Handler<Method>)(this, payload as RequestData<Method>);
      this.#reply({ id, ok: true, data: result });
    } catch (error) {
      const failure = toKaskadeError(error);
      if (failure.code === 'INTERNAL') this.#logger.error({ err: error, method }, 'request failed');
      this.#fail(id, failure.code, failure.message);
    } finally {
      this.#flushHeld();
    }
  }

  #reply(frame: ResponseFrame): void {
    this.#write(frame);
  }

  #fail(id: number | null, code: ErrorCode, message: string): void {
    this.#reply({ id, ok: false, error: { code, message } });
  }

  #send(frame: NotificationFrame): void {
    // Notifications raised while the join response is still on its way wait for it.
    if (this.#held) this.#held.push(frame);
    else this.#write(frame);
  }

  #flushHeld(): void {
    const held = this.#held;
    this.#held = null;
    for (const frame of held ?? []) this.#write(frame);
  }

  #write(frame: ResponseFrame | NotificationFrame): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(JSON.stringify(frame));
  }

  #close(code: number, reason: string): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.close(code, reason);
  }

  #onClose(): void {
    this.context.metrics.websockets.dec();
    clearTimeout(this.#joinTimer);
    clearInterval(this.#pingTimer);
    this.#participant?.close('disconnected');
  }
}
