import {
  type ErrorBody,
  type ErrorCode,
  ErrorCodes,
  type RoomActionSchema,
  RoomActions,
} from '@kaskade/protocol';
import type { Static } from 'typebox';
import {
  CAPACITY_ROUTE,
  type CapacityReport,
  type CapacityReservation,
  type CapacityReservationRequest,
  capacityReservationPath,
  type RoomSummary,
  roomActionPath,
  roomSummaryPath,
} from './contract-shapes.ts';

/** Room actions by name: their parameter and answer schemas (RoomActions, or a map like it). */
export type ActionMap = Record<string, RoomActionSchema>;
export type ActionName<A extends ActionMap = typeof RoomActions> = keyof A & string;
export type ActionParams<N extends ActionName<A>, A extends ActionMap = typeof RoomActions> = Static<
  A[N]['request']
>;
export type ActionResult<N extends ActionName<A>, A extends ActionMap = typeof RoomActions> = Static<
  A[N]['response']
>;

/** One method per room action, for one room: `api.actions('standup').muteParticipant({...})`. */
export type RoomActionMethods<A extends ActionMap = typeof RoomActions> = {
  readonly [N in ActionName<A>]: (params: ActionParams<N, A>) => Promise<ActionResult<N, A>>;
};

/**
 * A refusal by the control plane (its ErrorBody: `code`, `message`, and the HTTP status),
 * or `UNAVAILABLE` with status 0 when no answer came (network, timeout).
 */
export class KaskadeApiError extends Error {
  override readonly name = 'KaskadeApiError';
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = status;
  }
}

export interface KaskadeApiOptions<A extends ActionMap = typeof RoomActions> {
  /** The control plane's public listener, e.g. https://kaskade.example.com. */
  url: string;
  /** KASKADE_APP_API_KEY (sent as `authorization: Bearer <key>`). */
  apiKey: string;
  /** Give up on an answer after this long (default 10 s). */
  timeoutMs?: number;
  /** The actions the server knows (default: this package's RoomActions). */
  actions?: A;
}

const isErrorBody = (body: unknown): body is ErrorBody =>
  typeof body === 'object' &&
  body !== null &&
  ErrorCodes.includes((body as ErrorBody).code) &&
  typeof (body as ErrorBody).message === 'string';

/** The control plane's HTTP API for the conference application: room actions, room summaries and capacity reservations. */
export class KaskadeApi<A extends ActionMap = typeof RoomActions> {
  readonly #base: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #actionNames: ReadonlySet<string>;

  constructor(options: KaskadeApiOptions<A>) {
    if (!options.apiKey) throw new TypeError('KaskadeApi needs an apiKey');
    this.#base = new URL(options.url).href.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#actionNames = new Set(Object.keys(options.actions ?? RoomActions));
  }

  /** Performs a room action (`POST /v1/rooms/{room}/actions/{name}`): its answer, or a KaskadeApiError. */
  act<N extends ActionName<A>>(
    room: string,
    action: N,
    params: ActionParams<N, A>,
  ): Promise<ActionResult<N, A>> {
    return this.#call('POST', roomActionPath(room, action), params) as Promise<ActionResult<N, A>>;
  }

  /** The actions as methods for one room. */
  actions(room: string): RoomActionMethods<A> {
    const methods: Record<string, (params: unknown) => Promise<unknown>> = {};
    for (const name of this.#actionNames) {
      methods[name] = (params) => this.#call('POST', roomActionPath(room, name), params);
    }
    return Object.freeze(methods) as RoomActionMethods<A>;
  }

  /** What the room is now (`GET /v1/rooms/{room}`). */
  room(room: string): Promise<RoomSummary> {
    return this.#call('GET', roomSummaryPath(room)) as Promise<RoomSummary>;
  }

  /**
   * Pre-warms capacity for an expected audience (`PUT /v1/capacity/reservations/{id}`):
   * the desired nodes rise a lead time ahead of `startsAt`. The same id again replaces it.
   * Answers the stored reservation (endsAt and kind filled in).
   */
  reserveCapacity(id: string, reservation: CapacityReservationRequest): Promise<CapacityReservation> {
    return this.#call('PUT', capacityReservationPath(id), reservation) as Promise<CapacityReservation>;
  }

  /** Removes a reservation (`DELETE /v1/capacity/reservations/{id}`); one already gone is fine. */
  async cancelReservation(id: string): Promise<void> {
    await this.#call('DELETE', capacityReservationPath(id));
  }

  /** What the autoscaler wants per region and kind, with its reasons, and the reservations (`GET /v1/capacity`). */
  capacity(): Promise<CapacityReport> {
    return this.#call('GET', CAPACITY_ROUTE) as Promise<CapacityReport>;
  }

  async #call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    let answer: Response;
    try {
      answer = await fetch(`${this.#base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new KaskadeApiError(
        'UNAVAILABLE',
        `${method} ${path}: no answer (${(error as Error).message})`,
        0,
        {
          cause: error,
        },
      );
    }
    const text = await answer.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new KaskadeApiError(
        'INTERNAL',
        `${method} ${path}: HTTP ${answer.status}, not JSON`,
        answer.status,
      );
    }
    if (answer.ok) return parsed;
    if (isErrorBody(parsed)) throw new KaskadeApiError(parsed.code, parsed.message, answer.status);
    throw new KaskadeApiError(
      'INTERNAL',
      `${method} ${path}: HTTP ${answer.status} without an error body`,
      answer.status,
    );
  }
}
