import type { CapacityReservations } from '@kaskade/directory';
import {
  CAPACITY_RESERVATION_ROUTE,
  CAPACITY_ROUTE,
  CapacityReport,
  CapacityReservation,
  CapacityReservationRequest,
  DEFAULT_RESERVATION_HOURS,
  KaskadeError,
  MAX_CAPACITY_RESERVATIONS,
  MAX_RESERVATION_AHEAD_DAYS,
  MAX_RESERVATION_HOURS,
  ReservationRouteParams,
} from '@kaskade/protocol';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { ApiAuthenticator } from './apiAuth.ts';
import type { Autoscaler } from './autoscaling/Autoscaler.ts';

export interface CapacityPluginOptions {
  /** The same gate as the room API (apiAuth.ts). */
  authenticate: ApiAuthenticator;
  reservations: Pick<CapacityReservations, 'put' | 'delete'>;
  autoscaler: Pick<Autoscaler, 'report' | 'decide'>;
  maxBodyBytes: number;
}

const HOUR_MS = 3_600_000;
const validRequest = Compile(CapacityReservationRequest);

/**
 * The application's pre-warm API (protocol/capacity.ts) on the public listener, behind
 * the room API's gate: `PUT /v1/capacity/reservations/{id}` stores a reservation (an
 * expected audience and its start) and decides again at once, `DELETE` removes it, `GET
 * /v1/capacity` answers this replica's last decisions with their reasons.
 */
export async function capacityPlugin(app: FastifyInstance, opts: CapacityPluginOptions): Promise<void> {
  const { authenticate } = opts;
  type Params = { Params: Static<typeof ReservationRouteParams> };

  app.get(
    CAPACITY_ROUTE,
    { onRequest: authenticate, schema: { response: { 200: CapacityReport } } },
    async () => opts.autoscaler.report(),
  );

  app.put<Params>(
    CAPACITY_RESERVATION_ROUTE,
    {
      bodyLimit: opts.maxBodyBytes,
      onRequest: authenticate,
      // The body is checked here as sent: fastify's validator would coerce types.
      schema: { params: ReservationRouteParams, response: { 200: CapacityReservation } },
    },
    async (request) => {
      const reservation = storedReservation(request.params.id, request.body, Date.now());
      if (!(await redis(() => opts.reservations.put(reservation))))
        throw new KaskadeError(
          'CONFLICT',
          `at most ${MAX_CAPACITY_RESERVATIONS} reservations; delete some first`,
        );
      await opts.autoscaler.decide();
      return reservation;
    },
  );

  app.delete<Params>(
    CAPACITY_RESERVATION_ROUTE,
    { onRequest: authenticate, schema: { params: ReservationRouteParams } },
    async (request, reply) => {
      // Idempotent: a reservation already gone is gone.
      await redis(() => opts.reservations.delete(request.params.id));
      await opts.autoscaler.decide();
      return reply.code(204).send();
    },
  );
}

/** The reservation a request body makes, endsAt and kind filled in; BAD_REQUEST for what cannot be one. */
function storedReservation(id: string, body: unknown, now: number): CapacityReservation {
  if (!validRequest.Check(body)) {
    const e = validRequest.Errors(body)[0];
    throw new KaskadeError(
      'BAD_REQUEST',
      `reservation: ${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`,
    );
  }
  const startsAt = Date.parse(body.startsAt);
  const endsAt =
    body.endsAt === undefined ? startsAt + DEFAULT_RESERVATION_HOURS * HOUR_MS : Date.parse(body.endsAt);
  const problem =
    endsAt <= startsAt
      ? 'endsAt must be after startsAt'
      : endsAt - startsAt > MAX_RESERVATION_HOURS * HOUR_MS
        ? `a reservation lasts at most ${MAX_RESERVATION_HOURS} h`
        : endsAt <= now
          ? 'the reservation has ended already'
          : startsAt > now + MAX_RESERVATION_AHEAD_DAYS * 24 * HOUR_MS
            ? `a reservation starts at most ${MAX_RESERVATION_AHEAD_DAYS} days ahead`
            : undefined;
  if (problem) throw new KaskadeError('BAD_REQUEST', `reservation: ${problem}`);
  return {
    id,
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    expectedParticipants: body.expectedParticipants,
    ...(body.regions ? { regions: body.regions } : {}),
    kind: body.kind ?? 'lecture',
  };
}

/** A Redis failure is the directory being away (503), not a fault of the server. */
async function redis<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw new KaskadeError('UNAVAILABLE', `capacity reservations unavailable: ${(err as Error).message}`);
  }
}
