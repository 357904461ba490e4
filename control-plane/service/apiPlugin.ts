import type { Directory } from '@kaskade/directory';
import { addressKey, constantTimeEqual, type Rate, RateLimiter } from '@kaskade/node-toolkit';
import {
  API_AUTH_SCHEME,
  KaskadeError,
  ROOM_ACTION_ROUTE,
  ROOM_SUMMARY_ROUTE,
  type RoomActionRouteParams,
  RoomRouteParams,
  RoomSummary,
} from '@kaskade/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { RoomActionExecutor } from './actions/RoomActionExecutor.ts';
import { roomSummary } from './roomSummary.ts';

export interface ApiPluginOptions {
  /** The application's API keys: the current one and, during a rotation, the previous one. None: the API is off. */
  keys: readonly string[];
  executor: RoomActionExecutor;
  directory: Directory;
  /** Requests per source address (checked first, before the key or the body). */
  perAddress: Rate;
  rateLimitKeys: number;
  maxBodyBytes: number;
}

const BEARER = `${API_AUTH_SCHEME} `;

/**
 * The conference application's API on the public listener (protocol/http-api.ts): every
 * room action at `POST /v1/rooms/{room}/actions/{name}` (one route per action, its
 * schemas from RoomActions, executed by the RoomActionExecutor like a moderator's) and
 * a room's summary at `GET /v1/rooms/{room}`. Every request passes, in order: the rate
 * limit of its address (429), the API key (401; 503 when the operator set none), then
 * its schema (400). An unknown action is 404 only once the key was right.
 */
export async function apiPlugin(app: FastifyInstance, opts: ApiPluginOptions): Promise<void> {
  const perAddress = new RateLimiter(opts.perAddress, { maxKeys: opts.rateLimitKeys });
  const keys = opts.keys.filter((k) => k.length > 0);

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const waitMs = perAddress.take(addressKey(request.ip));
    if (waitMs > 0) {
      return reply
        .code(429)
        .header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))))
        .send({ code: 'RATE_LIMITED', message: 'too many API requests from this address; retry later' });
    }
    if (keys.length === 0)
      throw new KaskadeError('UNAVAILABLE', 'the application API is off: KASKADE_APP_API_KEY is not set');
    const header = request.headers.authorization;
    const offered = header?.startsWith(BEARER) ? header.slice(BEARER.length) : '';
    // Every key is compared, whichever matched: the time taken says nothing about which.
    let valid = false;
    for (const key of keys) valid = constantTimeEqual(offered, key) || valid;
    if (!valid) {
      reply.header('www-authenticate', API_AUTH_SCHEME);
      throw new KaskadeError('UNAUTHORIZED', 'a valid API key is required (authorization: Bearer <key>)');
    }
  };

  app.get<{ Params: Static<typeof RoomRouteParams> }>(
    ROOM_SUMMARY_ROUTE,
    { onRequest: authenticate, schema: { params: RoomRouteParams, response: { 200: RoomSummary } } },
    async (request) => roomSummary(opts.directory, request.params.room),
  );

  for (const [name, action] of Object.entries(opts.executor.schemas)) {
    app.post<{ Params: Static<typeof RoomRouteParams> }>(
      ROOM_ACTION_ROUTE.replace(':name', name),
      {
        bodyLimit: opts.maxBodyBytes,
        onRequest: authenticate,
        // The body is checked by the executor against the action's schema as sent: fastify's
        // validator would coerce types and strip unknown fields, accepting what signaling refuses.
        schema: { params: RoomRouteParams, response: { 200: action.response } },
      },
      async (request) =>
        opts.executor.execute(request.params.room, { kind: 'application' }, name, request.body),
    );
  }
  // Static routes win over this one: it answers only for a name that is no action.
  app.post<{ Params: Static<typeof RoomActionRouteParams> }>(
    ROOM_ACTION_ROUTE,
    { bodyLimit: opts.maxBodyBytes, onRequest: authenticate },
    async (request) => {
      throw new KaskadeError('NOT_FOUND', `no room action ${request.params.name}`);
    },
  );
}
