import type { Directory } from '@kaskade/directory';
import {
  KaskadeError,
  ROOM_ACTION_ROUTE,
  ROOM_SUMMARY_ROUTE,
  type RoomActionRouteParams,
  RoomRouteParams,
  RoomSummary,
} from '@kaskade/protocol';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { RoomActionExecutor } from './actions/RoomActionExecutor.ts';
import type { ApiAuthenticator } from './apiAuth.ts';
import { roomSummary } from './roomSummary.ts';

export interface ApiPluginOptions {
  /** The gate of the application's API (apiAuth.ts): rate limit, then API key. */
  authenticate: ApiAuthenticator;
  executor: RoomActionExecutor;
  directory: Directory;
  maxBodyBytes: number;
}

/**
 * The conference application's API on the public listener (protocol/http-api.ts): every
 * room action at `POST /v1/rooms/{room}/actions/{name}` (one route per action, its
 * schemas from RoomActions, executed by the RoomActionExecutor like a moderator's) and
 * a room's summary at `GET /v1/rooms/{room}`. Every request passes, in order: the
 * gate (apiAuth.ts: the rate limit of its address, 429, then the API key, 401 or 503),
 * then its schema (400). An unknown action is 404 only once the key was right.
 */
export async function apiPlugin(app: FastifyInstance, opts: ApiPluginOptions): Promise<void> {
  const { authenticate } = opts;

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
