import Type, { type Static } from 'typebox';
import { Region, SAFE_NAME_PATTERN, SafeName } from './names.ts';

/**
 * The application's pre-warm API on the control plane's public listener (the same
 * Bearer API key as the room API, http-api.ts): it announces an expected audience and
 * a start time, and the desired node counts (`kaskade_desired_nodes`) rise a lead time
 * ahead of it. `GET` CAPACITY_ROUTE says what the autoscaler wants now and why.
 */
export const CAPACITY_ROUTE = '/v1/capacity';

/** `PUT` a reservation (CapacityReservationRequest; 200 the stored one), `DELETE` it (204). */
export const CAPACITY_RESERVATION_ROUTE = '/v1/capacity/reservations/:id';

export function capacityReservationPath(id: string): string {
  return CAPACITY_RESERVATION_ROUTE.replace(':id', encodeURIComponent(id));
}

/** Reservations one deployment keeps at most (each PUT of a new id past it is refused). */
export const MAX_CAPACITY_RESERVATIONS = 1000;
/** The longest a reservation may run (endsAt - startsAt) and how far ahead it may start. */
export const MAX_RESERVATION_HOURS = 24;
export const MAX_RESERVATION_AHEAD_DAYS = 90;
/** A reservation without endsAt ends this long after it starts (or earlier: see the autoscaler). */
export const DEFAULT_RESERVATION_HOURS = 4;

/** The media node kinds the autoscaler counts. */
export const MediaNodeKind = Type.Union([Type.Literal('edge'), Type.Literal('relay')]);
export type MediaNodeKind = Static<typeof MediaNodeKind>;

export const ReservationRouteParams = Type.Object({ id: SafeName });

/** A region as a record's key: a whole safe name, nothing else. */
const RegionKey = Type.String({ pattern: `^${SAFE_NAME_PATTERN}$` });
const Instant = Type.String({ format: 'date-time', maxLength: 40 });

export const CapacityReservationRequest = Type.Object(
  {
    /** When the audience arrives (ISO-8601). */
    startsAt: Instant,
    /** When it leaves (default: startsAt + DEFAULT_RESERVATION_HOURS). */
    endsAt: Type.Optional(Instant),
    expectedParticipants: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    /** Each region's share of the audience (default: equal shares over the regions that have edges). */
    regions: Type.Optional(
      Type.Record(RegionKey, Type.Integer({ minimum: 1, maximum: 1_000_000 }), {
        minProperties: 1,
        maxProperties: 100,
        additionalProperties: false,
      }),
    ),
    kind: Type.Optional(Type.Union([Type.Literal('lecture'), Type.Literal('meeting')])),
  },
  { additionalProperties: false },
);
export type CapacityReservationRequest = Static<typeof CapacityReservationRequest>;

/** A reservation as stored (Redis) and answered: endsAt and kind filled in. */
export const CapacityReservation = Type.Object({
  id: SafeName,
  startsAt: Instant,
  endsAt: Instant,
  expectedParticipants: Type.Integer({ minimum: 1 }),
  regions: Type.Optional(Type.Record(RegionKey, Type.Integer({ minimum: 1 }))),
  kind: Type.Union([Type.Literal('lecture'), Type.Literal('meeting')]),
});
export type CapacityReservation = Static<typeof CapacityReservation>;

/** What the autoscaler wants for one region and kind, and why. */
export const CapacityDecision = Type.Object({
  region: Region,
  kind: MediaNodeKind,
  /** Serving nodes now (draining ones are not capacity). */
  nodes: Type.Integer({ minimum: 0 }),
  /** kaskade_desired_nodes for this region and kind. */
  desired: Type.Integer({ minimum: 0 }),
  reasons: Type.Array(Type.String()),
});
export type CapacityDecision = Static<typeof CapacityDecision>;

export const CapacityReport = Type.Object({
  regions: Type.Array(CapacityDecision),
  reservations: Type.Array(CapacityReservation),
});
export type CapacityReport = Static<typeof CapacityReport>;
