import type {
  ErrorBody,
  Method,
  NotificationData,
  NotificationName,
  RequestData,
  ResponseData,
  SdkErrorCode,
} from '@kaskade/protocol';
import { SIGNALING_PATH, SIGNALING_SUBPROTOCOL } from '@kaskade/protocol/browser';
import { Emitter } from './Emitter.ts';

/**
 * A request that failed with a code: the edge's refusal (an ErrorCode) or no answer in time
 * (the client's own TIMEOUT). The codes are the protocol's errors.ts.
 */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly code: SdkErrorCode;
  readonly method: string;
  constructor(method: string, body: { code: SdkErrorCode; message: string }) {
    super(`${method}: ${body.code}: ${body.message}`);
    this.code = body.code;
    this.method = method;
  }
}

/** The socket closed before the request was answered. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
}

type NotificationEvents = { [N in NotificationName]: [NotificationData<N>] };
type ChannelEvents = NotificationEvents & { close: [code: number, reason: string] };

interface Pending {
  method: string;
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  /** A notification saying the edge holds the answer on purpose: from then on, no timeout. */
  heldBy: NotificationName | undefined;
}

export interface RequestOptions {
  /**
   * The edge may hold this request's answer on purpose and says so with this notification
   * (a join waiting in the lobby: `lobbyWaiting`). Once it arrives the request waits for its
   * answer however long it takes; only the socket closing ends it.
   */
  heldBy?: NotificationName;
}

/** Typed request/response and notifications over the edge's signaling WebSocket. */
export class SignalingChannel extends Emitter<ChannelEvents> {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  #nextId = 1;

  private constructor(socket: WebSocket, timeoutMs: number) {
    super();
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.addEventListener('message', (event) => this.#onMessage(event.data));
    socket.addEventListener('close', (event) => this.#onClose(event.code, event.reason));
  }

  /** Opens a channel to an edge (http(s):// or ws(s):// base URL). */
  static open(edgeUrl: string, { timeoutMs = 10_000 } = {}): Promise<SignalingChannel> {
    const url = new URL(SIGNALING_PATH, edgeUrl.replace(/^http/, 'ws'));
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, SIGNALING_SUBPROTOCOL);
      const timer = setTimeout(() => {
        socket.close();
        reject(new ConnectionClosedError(`no connection to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new SignalingChannel(socket, timeoutMs));
      });
      socket.addEventListener('close', (event) => {
        clearTimeout(timer);
        reject(new ConnectionClosedError(`could not connect to ${url} (${event.code})`));
      });
    });
  }

  get open(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  request<M extends Method>(
    method: M,
    data: RequestData<M>,
    { heldBy }: RequestOptions = {},
  ): Promise<ResponseData<M>> {
    if (!this.open) return Promise.reject(new ConnectionClosedError(`${method}: signaling is closed`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new RequestError(method, { code: 'TIMEOUT', message: `no answer within ${this.#timeoutMs} ms` }),
        );
      }, this.#timeoutMs);
      this.#pending.set(id, { method, resolve: resolve as (d: unknown) => void, reject, timer, heldBy });
      this.#socket.send(JSON.stringify({ id, method, data }));
    });
  }

  close(code = 1000, reason = 'bye'): void {
    this.#socket.close(code, reason);
  }

  #onMessage(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let frame: { id?: number | null; ok?: boolean; data?: unknown; error?: ErrorBody; notification?: string };
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (frame.notification) {
      const name = frame.notification as NotificationName;
      for (const p of this.#pending.values()) if (p.heldBy === name) clearTimeout(p.timer);
      this.emit(name, frame.data as never);
      return;
    }
    const pending = typeof frame.id === 'number' ? this.#pending.get(frame.id) : undefined;
    if (!pending) {
      if (frame.ok === false) console.warn('kaskade: edge reported', frame.error);
      return;
    }
    this.#pending.delete(frame.id as number);
    clearTimeout(pending.timer);
    if (frame.ok) pending.resolve(frame.data);
    else pending.reject(new RequestError(pending.method, frame.error ?? { code: 'INTERNAL', message: '?' }));
  }

  #onClose(code: number, reason: string): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectionClosedError(`${p.method}: signaling closed (${code})`));
      this.#pending.delete(id);
    }
    this.emit('close', code, reason);
  }
}
