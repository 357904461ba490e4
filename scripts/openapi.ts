// The control plane's OpenAPI 3.1 document, made from the schemas in control-plane/protocol:
//   node scripts/openapi.ts          prints it
//   node scripts/openapi.ts --write  rewrites control-plane/service/openapi.json
//   node scripts/openapi.ts --check  exits 1 if the file differs from the schemas'
// Every room action (RoomActions: its parameters, answer and description), the room
// summary, the public join, the capacity (pre-warm) API, and the webhooks the application receives.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import {
  API_AUTH_SCHEME,
  CAPACITY_RESERVATION_ROUTE,
  CAPACITY_ROUTE,
  CapacityReport,
  CapacityReservation,
  CapacityReservationRequest,
  ErrorCodes,
  HTTP_JOIN_ROUTE,
  HttpJoinReply,
  HttpJoinRequest,
  ROOM_ACTION_ROUTE,
  ROOM_SUMMARY_ROUTE,
  type RoomActionSchema,
  RoomActions,
  RoomName,
  RoomSummary,
  SafeName,
  WEBHOOK_SIGNATURE_VERSION,
  WEBHOOK_TOLERANCE_SECONDS,
  WEBHOOK_TYPES,
  WebhookHeaders,
  webhookEventSchema,
} from '@kaskade/protocol';
import type { TSchema } from 'typebox';

const FILE = new URL('../control-plane/service/openapi.json', import.meta.url);

/** A schema as plain JSON Schema (TypeBox's own markers are symbols: JSON drops them). */
const json = (schema: TSchema): unknown => JSON.parse(JSON.stringify(schema));

/** `/v1/rooms/:room` as OpenAPI spells it: `/v1/rooms/{room}`. */
const openApiPath = (route: string) => route.replace(/:([a-z]+)/g, '{$1}');

const roomParameter = {
  name: 'room',
  in: 'path',
  required: true,
  schema: json(RoomName),
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** The refusals every authenticated route may answer, besides its own. */
const apiRefusals = {
  '400': errorResponse('BAD_REQUEST: the body or the room name breaks its schema'),
  '401': errorResponse('UNAUTHORIZED: no API key, or not one of the configured keys'),
  '429': errorResponse('RATE_LIMITED: too many requests from this address (see retry-after)'),
  '503': errorResponse('UNAVAILABLE: the API is off (no key configured), or Redis or the bus is away'),
};

const jsonBody = (schema: TSchema) => ({
  required: true,
  content: { 'application/json': { schema: json(schema) } },
});
const jsonAnswer = (description: string, schema: TSchema) => ({
  description,
  content: { 'application/json': { schema: json(schema) } },
});

function actionOperation(name: string, action: RoomActionSchema) {
  return {
    post: {
      operationId: name,
      summary: name,
      description: action.description,
      tags: ['room actions'],
      security: [{ apiKey: [] }],
      parameters: [roomParameter],
      requestBody: jsonBody(action.request),
      responses: {
        '200': jsonAnswer('done: the action’s answer', action.response),
        ...apiRefusals,
        '403': errorResponse('FORBIDDEN: the action is not allowed on this room now'),
        '404': errorResponse('NOT_FOUND: no such action, or the participant or message it names'),
        '409': errorResponse('INVALID_STATE or CONFLICT: the room’s state does not allow it now'),
      },
    },
  };
}

const reservationParameter = { name: 'id', in: 'path', required: true, schema: json(SafeName) };

/** The pre-warm API (protocol/capacity.ts): reservations of capacity ahead of a lecture, and what is desired now. */
const capacityPaths = {
  [openApiPath(CAPACITY_ROUTE)]: {
    get: {
      operationId: 'capacity',
      summary: 'desired capacity',
      description:
        'The desired node count per region and kind (kaskade_desired_nodes) as this replica last decided it, with its reasons, and the reservations it saw.',
      tags: ['capacity'],
      security: [{ apiKey: [] }],
      responses: { '200': jsonAnswer('what the autoscaler wants now', CapacityReport), ...apiRefusals },
    },
  },
  [openApiPath(CAPACITY_RESERVATION_ROUTE)]: {
    put: {
      operationId: 'reserveCapacity',
      summary: 'reserve capacity',
      description:
        'Announces an expected audience and its start: the desired edges (and relays, when it spans regions) rise a lead time (KASKADE_AUTOSCALE_LEAD_MS) ahead of startsAt, and hold until endsAt or until the load asks for as much. Replaces a reservation of the same id.',
      tags: ['capacity'],
      security: [{ apiKey: [] }],
      parameters: [reservationParameter],
      requestBody: jsonBody(CapacityReservationRequest),
      responses: {
        '200': jsonAnswer('stored: the reservation, endsAt and kind filled in', CapacityReservation),
        ...apiRefusals,
        '409': errorResponse('CONFLICT: too many reservations stored'),
      },
    },
    delete: {
      operationId: 'cancelReservation',
      summary: 'cancel a reservation',
      description: 'Removes the reservation (none by that id: removed all the same).',
      tags: ['capacity'],
      security: [{ apiKey: [] }],
      parameters: [reservationParameter],
      responses: { '204': { description: 'removed' }, ...apiRefusals },
    },
  },
};

const signatureHelp = [
  `Headers: \`${WebhookHeaders.id}\` (the event id, the same on every attempt),`,
  `\`${WebhookHeaders.timestamp}\` (unix seconds of this attempt) and \`${WebhookHeaders.signature}\`:`,
  `\`${WEBHOOK_SIGNATURE_VERSION}=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>\`, one per secret during a`,
  `rotation, space-separated. Refuse a timestamp more than ${WEBHOOK_TOLERANCE_SECONDS} s away from now;`,
  'answer 2xx once handled. Other answers, errors and timeouts are retried with exponential backoff.',
].join(' ');

function webhookOperation(type: (typeof WEBHOOK_TYPES)[number]) {
  return {
    post: {
      operationId: `webhook_${type}`,
      summary: type,
      description: signatureHelp,
      tags: ['webhooks'],
      parameters: Object.values(WebhookHeaders).map((name) => ({
        name,
        in: 'header',
        required: true,
        schema: { type: 'string' },
      })),
      requestBody: jsonBody(webhookEventSchema(type)),
      responses: { '200': { description: 'received (any 2xx)' } },
    },
  };
}

export function openApiDocument() {
  const actions = Object.entries(RoomActions as Record<string, RoomActionSchema>).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Kaskade control plane',
      version: '1',
      description:
        'The conference application’s API to a Kaskade deployment: join placement, room actions (each also a moderator’s signaling request), room summaries, capacity reservations ahead of lectures, and the webhooks it receives.',
    },
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: API_AUTH_SCHEME.toLowerCase(),
          description:
            'KASKADE_APP_API_KEY (or, during a rotation, KASKADE_APP_API_PREVIOUS_KEY) as a bearer token',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string', enum: [...ErrorCodes] }, message: { type: 'string' } },
        },
      },
    },
    paths: {
      [openApiPath(HTTP_JOIN_ROUTE)]: {
        post: {
          operationId: 'join',
          summary: 'join',
          description:
            'A participant’s application token in; the edge to use and a single-use, short-lived token for it out.',
          tags: ['join'],
          security: [],
          parameters: [roomParameter],
          requestBody: jsonBody(HttpJoinRequest),
          responses: {
            '200': jsonAnswer('placed', HttpJoinReply),
            '400': errorResponse('BAD_REQUEST'),
            '401': errorResponse('UNAUTHORIZED: the token is missing, bad or expired'),
            '403': errorResponse('FORBIDDEN: the token is for another room, or the identity is banned'),
            '429': errorResponse('RATE_LIMITED'),
            '503': errorResponse('UNAVAILABLE: no edge can take the join'),
          },
        },
      },
      [openApiPath(ROOM_SUMMARY_ROUTE)]: {
        get: {
          operationId: 'roomSummary',
          summary: 'room summary',
          description:
            'What the room is now, from Redis: its participants, streams and edges, and its features’ state.',
          tags: ['rooms'],
          security: [{ apiKey: [] }],
          parameters: [roomParameter],
          responses: { '200': jsonAnswer('the room now', RoomSummary), ...apiRefusals },
        },
      },
      ...Object.fromEntries(
        actions.map(([name, action]) => [
          openApiPath(ROOM_ACTION_ROUTE.replace(':name', name)),
          actionOperation(name, action),
        ]),
      ),
      ...capacityPaths,
    },
    webhooks: Object.fromEntries(WEBHOOK_TYPES.map((type) => [type, webhookOperation(type)])),
  };
}

// Compared as data, not text: the formatter may lay the file out its own way.
const document = openApiDocument();
if (process.argv.includes('--write')) writeFileSync(FILE, `${JSON.stringify(document, null, 2)}\n`);
else if (process.argv.includes('--check')) {
  let current: unknown;
  try {
    current = JSON.parse(readFileSync(FILE, 'utf8'));
  } catch {
    current = undefined;
  }
  // Through JSON both ways: an optional field left undefined is absent in the file too.
  if (!isDeepStrictEqual(current, JSON.parse(JSON.stringify(document)))) {
    console.error(
      `${fileURLToPath(FILE).replace(`${process.cwd()}/`, '')} is out of date; run: node scripts/openapi.ts --write`,
    );
    process.exitCode = 1;
  }
} else process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
