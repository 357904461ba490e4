import type { TokenVerifier } from '@kaskade/node-toolkit';
import { type Rate, RateLimiter } from '@kaskade/node-toolkit';
import {
  CloseCodes,
  type ErrorCode,
  KaskadeError,
  type Method,
  type NotificationFrame,
  type RequestData,
  RequestFrame,
  Requests,
  type ResponseData,
  type ResponseFrame,
  type RoomActionName,
} from '@kaskade/protocol';
import type { Logger } from 'pino';
import { Compile, type Validator } from 'typebox/compile';
import type { WebSocket } from 'ws';
import type { LeaveReason, Participant } from '../rtc/Participant.ts';
import type { Room } from '../rtc/Room.ts';
import type { RoomManager } from '../rtc/RoomManager.ts';
import type { EdgeMetrics } from './edgeMetrics.ts';
import { toKaskadeError } from './errors.ts';
import { JoinGate } from './JoinGate.ts';
import { type Handler, handlers } from './requestHandlers.ts';

/** What one socket may cost the edge. */
export interface SessionLimits {
  /** Unsent output past this closes the socket (slowReader). */
  maxBufferedBytes: number;
  requests: Rate;
  /** Messages accepted before the join; one more closes the socket (tooManyBeforeJoin). */
  maxMessagesBeforeJoin: number;
  maxConsumers: number;
  /** The largest last-N a participant may ask for (setLastN). */
  lastNMax: number;
  consumes: Rate;
  restartIce: Rate;
}

export interface SessionContext {
  nodeId: string;
  metrics: EdgeMetrics;
  rooms: RoomManager;
  verifier: TokenVerifier;
  rtpCapabilities: ResponseData<'getRouterRtpCapabilities'>['rtpCapabilities'];
  joinTimeoutMs: number;
  /** How long a join may wait in the lobby (its join timer stops while it waits). */
  lobbyWaitMaxMs: number;
  maxMessageBytes: number;
  limits: SessionLimits;
  /**
   * Mesh mode: records a token id as used, false if it was already. With it the edge
   * accepts only tokens issued for this node, once each; without it (standalone edge)
   * any valid token, as often as it likes.
   */
  useTokenOnce?: (jti: string, expiresAtSeconds: number) => Promise<boolean>;
  /**
   * Mesh mode: asks the control plane to execute a room action as moderator `by`
   * (ControlRpc room.act); a standalone edge has none and refuses room actions.
   */
  act?: (room: string, by: string, action: RoomActionName, params: unknown) => Promise<unknown>;
  logger: Logger;
}

const checkFrame = Compile(RequestFrame);
const validators = Object.fromEntries(
  Object.entries(Requests).map(([method, { request }]) => [method, Compile(request)]),
) as unknown as Record<Method, Validator>;

const MAX_IN_FLIGHT = 32;
/**
 * Unexpected failures are logged at ERROR at most a few times a minute per method:
 * a client that triggers one on purpose must not flood the log. The rest go to debug.
 */
const internalErrorLog = new RateLimiter({ perSecond: 0.05, burst: 3 }, { maxKeys: 64 });
const SLOW_READER_GRACE_MS = 2000;
const PING_INTERVAL_MS = 15_000;

const closeCodeFor: Record<Exclude<LeaveReason, 'disconnected'>, number> = {
  left: CloseCodes.normal,
  replaced: CloseCodes.replaced,
  'room-closed': CloseCodes.roomClosed,
  shutdown: CloseCodes.goingAway,
  removed: CloseCodes.removed,
  ended: CloseCodes.meetingEnded,
};

/**
 * Before its join a socket may ask for the router capabilities once (they are the same
 * for every router of the edge, computed at start: answering costs nothing) and join.
 */
const allowedBeforeJoin = new Set<Method>(['getRouterRtpCapabilities', 'join']);

/**
 * One signaling WebSocket. Requests run one after another, in arrival order, so a
 * client may pipeline them; every failure is answered with a typed error and the
 * connection stays usable, except for a bad token, which closes it (4401).
 *
 * What a hostile client can cost is bounded: requests are rate-limited (RATE_LIMITED,
 * nothing done), a socket that sends more than a few messages before joining is closed
 * (4400), one that does not read its answers is closed once its unsent output passes a
 * bound (4413), and a socket closed in the middle of its join leaves nothing behind.
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
  #messagesBeforeJoin = 0;
  #capabilitiesSent = false;
  readonly #requests: RateLimiter;
  readonly #consumes: RateLimiter;
  readonly #restartIce: RateLimiter;
  readonly #joinTimer: NodeJS.Timeout;
  /** Aborted when the socket closes: a join waiting in the lobby gives up. */
  readonly #gone = new AbortController();
  readonly #gate: JoinGate;
  readonly #openedAt = performance.now();
  readonly #pingTimer: NodeJS.Timeout;

  constructor(socket: WebSocket, context: SessionContext) {
    this.#socket = socket;
    this.context = context;
    this.#logger = context.logger;
    const { limits } = context;
    this.#requests = new RateLimiter(limits.requests, { maxKeys: 1 });
    this.#consumes = new RateLimiter(limits.consumes, { maxKeys: 1 });
    this.#restartIce = new RateLimiter(limits.restartIce, { maxKeys: 1 });
    this.#joinTimer = setTimeout(() => {
      if (this.#participant) return;
      this.context.metrics.joinFailed('TIMEOUT');
      this.#close(CloseCodes.joinTimeout, 'join timeout');
    }, context.joinTimeoutMs);
    this.#gate = new JoinGate({
      context,
      signal: this.#gone.signal,
      assertConnected: () => this.#assertConnected(),
      close: (code, reason) => this.#close(code, reason),
      tellPosition: (position) => this.#write({ notification: 'lobbyWaiting', data: { position } }),
      stopJoinTimer: () => clearTimeout(this.#joinTimer),
    });
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

  /** Spends one of the participant's consume or restartIce tokens, or refuses with RATE_LIMITED. */
  throttle(what: 'consume' | 'restartIce'): void {
    const waitMs = (what === 'consume' ? this.#consumes : this.#restartIce).take();
    if (waitMs === 0) return;
    this.context.metrics.refused('rate_limited');
    throw new KaskadeError('RATE_LIMITED', `too many ${what} requests; retry in ${waitMs} ms`);
  }

  async join({
    token,
    rtpCapabilities,
    reconnect,
    resume,
  }: RequestData<'join'>): Promise<ResponseData<'join'>> {
    if (this.#participant || this.#joining) throw new KaskadeError('INVALID_STATE', 'joined already');
    this.#joining = true;
    const joinRequestedAt = performance.now();
    try {
      const claims = await this.#gate.verify(token);
      this.#assertConnected();
      // A room created here and never joined closes after the empty grace (RoomManager).
      const room = await this.context.rooms.getOrCreate(claims.room);
      this.#assertConnected();
      const admitted = await this.#gate.admit(room, claims, resume).catch((error: unknown) => {
        this.context.metrics.joinFailed(toKaskadeError(error).code);
        throw error;
      });
      const participant = await room
        .join(claims, rtpCapabilities, admitted.resume, admitted.admission)
        .catch((error: unknown) => {
          this.context.metrics.joinFailed(toKaskadeError(error).code);
          throw error;
        });
      if (this.#disconnected) {
        // Nobody to hand it to: it leaves as a dropped socket would (directory, room timer).
        participant.close('disconnected');
        this.#assertConnected();
      }
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
        speakerOrder: [...room.speakerOrder],
        lecture: room.lecture,
        participantCount: room.participantTotal,
        node: this.context.nodeId,
        settings: room.rules.settings,
        forbidden: room.rules.forbiddenFor(participant),
      };
    } finally {
      this.#joining = false;
    }
  }

  /** Closed or closing: either way nobody will take what a join makes now, so it is undone. */
  get #disconnected(): boolean {
    return this.#socket.readyState !== this.#socket.OPEN;
  }

  #assertConnected(): void {
    if (!this.#disconnected) return;
    this.context.metrics.joinFailed('INVALID_STATE');
    throw new KaskadeError('INVALID_STATE', 'the socket closed during the join');
  }

  leave(): void {
    this.participant.close('left');
  }

  #onMessage(raw: Buffer, isBinary: boolean): void {
    // Frames still arriving after we closed are not read.
    if (this.#disconnected) return;
    if (!this.#participant && ++this.#messagesBeforeJoin > this.context.limits.maxMessagesBeforeJoin) {
      this.#logger.debug('socket closed: too many messages before join');
      this.context.metrics.refused('before_join');
      this.#close(CloseCodes.tooManyBeforeJoin, 'too many messages before join');
      return;
    }
    // Every message costs a token, a malformed one too.
    const waitMs = this.#requests.take();
    const frame = this.#parse(raw, isBinary);
    if (!frame) return;
    if (waitMs > 0) {
      this.context.metrics.refused('rate_limited');
      this.#fail(frame.id, 'RATE_LIMITED', `too many requests; retry in ${waitMs} ms`);
      return;
    }
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
      if (!this.#participant && (!allowedBeforeJoin.has(m) || (m !== 'join' && this.#capabilitiesSent)))
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
      if (m === 'getRouterRtpCapabilities') this.#capabilitiesSent = true;
      this.#reply({ id, ok: true, data: result });
    } catch (error) {
      const failure = toKaskadeError(error);
      // Whatever a client's request provokes is the client's business: debug. An
      // unexpected failure may be a bug: ERROR, but only a few per method and minute.
      if (failure.code === 'INTERNAL' && internalErrorLog.take(method) === 0)
        this.#logger.error({ err: error, method }, 'request failed (further ones this minute at debug)');
      else this.#logger.debug({ err: error, method, code: failure.code }, 'request refused');
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
    if (this.#disconnected) return;
    this.#socket.send(JSON.stringify(frame));
    // A client that stops reading would otherwise make the edge hold everything sent to it.
    if (this.#socket.bufferedAmount > this.context.limits.maxBufferedBytes) {
      this.#logger.debug({ bufferedBytes: this.#socket.bufferedAmount }, 'socket closed: client not reading');
      this.context.metrics.refused('slow_reader');
      this.#close(CloseCodes.slowReader, 'not reading');
      // The close frame waits behind what the client does not read: give it a moment, then
      // drop the connection, so its buffered output is not held for ws's 30 s close timeout.
      setTimeout(() => this.#socket.terminate(), SLOW_READER_GRACE_MS).unref();
    }
  }

  #close(code: number, reason: string): void {
    if (!this.#disconnected) this.#socket.close(code, reason);
  }

  #onClose(): void {
    this.#gone.abort();
    this.context.metrics.websockets.dec();
    clearTimeout(this.#joinTimer);
    clearInterval(this.#pingTimer);
    this.#participant?.close('disconnected');
  }
}
