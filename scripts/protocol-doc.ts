// The protocol README's tables, made from the schemas in control-plane/protocol:
//   node scripts/protocol-doc.ts          prints them
//   node scripts/protocol-doc.ts --write  rewrites control-plane/protocol/README.md between its <!-- protocol:NAME --> markers
//   node scripts/protocol-doc.ts --check  exits 1 if the README's tables differ from the schemas'
// Names, fields and subjects come from the schemas and builders; what each RPC, subject,
// error and close code means is said here, in records keyed by the protocol's own names,
// so a method, subject or code added without a meaning does not type-check.
import {
  CloseCodes,
  CONTROL_QUEUE,
  ControlRpc,
  type ControlRpcMethod,
  type ErrorCode,
  ErrorCodes,
  httpStatusOf,
  NodeDead,
  NodeRpc,
  type NodeRpcMethod,
  Notifications,
  PipeEvent,
  Requests,
  RoomEvent,
  Subjects,
} from '@kaskade/protocol';
import type { TSchema } from 'typebox';
import { tablesCommand } from './marked-tables.ts';

interface JsonSchema {
  type?: string;
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
}

/** `a | b` when every member of a union is a literal. */
function literals(schema: JsonSchema): string | undefined {
  const members = schema.anyOf;
  if (!members?.every((m) => m.const !== undefined)) return undefined;
  return members.map((m) => String(m.const)).join(' | ');
}

/**
 * An object schema as its fields, `{a, b?, kind: audio | video}`; a union of objects as
 * their `type`s. In code, for a table cell (a pipe inside a cell is escaped, even in code).
 */
function fields(schema: TSchema): string {
  const s = schema as JsonSchema;
  const types = s.anyOf?.map((m) => m.properties?.type?.const);
  if (types?.every((t) => t !== undefined)) return code(`{type: ${types.join(' | ')}, …}`);
  const required = new Set(s.required ?? []);
  const names = Object.entries(s.properties ?? {}).map(([name, property]) => {
    const values = literals(property);
    return `${name}${required.has(name) ? '' : '?'}${values ? `: ${values}` : ''}`;
  });
  return code(`{${names.join(', ')}}`);
}

const code = (text: string) => `\`${text.replaceAll('|', '\\|')}\``;

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const rpcReply = '`{ok: true, data}` or `{ok: false, error: {code, message}}`';

const subjects: { [K in keyof typeof Subjects]: { subject: string; route: string; payload: string } } = {
  nodeRpc: {
    subject: Subjects.nodeRpc('<to>', '<method>' as NodeRpcMethod, '<from>'),
    route: 'one node → another, request/reply',
    payload: `\`NodeRpc[method].request\`; reply ${rpcReply}`,
  },
  controlRpc: {
    subject: Subjects.controlRpc('<method>' as ControlRpcMethod, '<from>'),
    route: `a node → one control-plane replica (queue group \`${CONTROL_QUEUE}\`), request/reply`,
    payload: `\`ControlRpc[method].request\`; reply ${rpcReply}`,
  },
  nodePipeEvents: {
    subject: Subjects.nodePipeEvents('<to>', '<from>'),
    route: 'origin → a node holding copies',
    payload: `\`PipeEvent\` ${fields(PipeEvent)}`,
  },
  roomEvents: {
    subject: Subjects.roomEvents('<room>', '<from>'),
    route: 'an edge → every edge carrying the room',
    payload: `\`RoomEvent\` ${fields(RoomEvent)}`,
  },
  roomControl: {
    subject: Subjects.roomControl('<room>', '<from>'),
    route: 'control plane only → every edge carrying the room (the room actions it executed)',
    payload: '`RoomEvent` (the moderation, chat and breakout members)',
  },
  heartbeat: {
    subject: Subjects.heartbeat('<from>'),
    route: 'every node, every `KASKADE_HEARTBEAT_MS`',
    payload: '`NodeHeartbeat`',
  },
  nodeDead: {
    subject: Subjects.nodeDead,
    route: 'control plane only → every node',
    payload: `\`NodeDead\` ${fields(NodeDead)}`,
  },
  inboxPrefix: {
    subject: `${Subjects.inboxPrefix('<from>')}.…`,
    route: 'replies to the requests of node `<from>`; only its credentials subscribe',
    payload: 'the reply',
  },
};

const nodeRpcMeanings: Record<NodeRpcMethod, string> = {
  'pipe.openLink':
    "open (or reopen) the callee's end of the link; the endpoints carry ip, port and the SRTP key",
  'pipe.consume':
    'start sending a producer over the link; `origin` lets a relay fetch it from its origin first',
  'pipe.release': 'the caller no longer needs the producer',
  'pipe.demand':
    'whether the caller wants the producer now (all its viewers paused it: not), so the origin pauses what nobody watches',
  'pipe.closeLink': 'the caller closed its end of the link',
};

const controlRpcMeanings: Record<ControlRpcMethod, string> = {
  'migration.place':
    'a draining edge asks where one of its participants goes on; answered only for a participant the directory has on the asking node, with a single-use edge token for another edge',
  'breakout.place':
    'the edge hosting a participant moves it into its breakout room or back to the main room; answered only for a participant the directory has on the asking node and a target the breakout plan allows its identity, with a single-use edge token for the target room',
  'breakout.due':
    'an edge carrying a room with open breakouts saw their timer run out; the control plane closes them if still open and due (exactly once, by an atomic state change)',
  'room.act':
    "a moderator of the asking edge performs a room action; the control plane checks the directory hosts `by` on the sender, validates `params` against the action's schema, executes it and answers its result",
};

const errorMeanings: Record<ErrorCode, string> = {
  BAD_REQUEST: 'not JSON, wrong shape, or refused by mediasoup',
  MESSAGE_TOO_LARGE: 'the frame or body passes its size bound',
  UNKNOWN_METHOD: 'no such method',
  INVALID_STATE: 'well-formed, but not allowed now (out of order, e.g. produce before join)',
  UNAUTHORIZED: 'missing, bad, expired or already used token',
  FORBIDDEN: 'the token is valid but lacks the grant',
  NOT_FOUND: 'no such room, participant, transport, producer or consumer',
  CONFLICT: 'the request contradicts the current state',
  UNAVAILABLE: 'the node is draining or out of capacity, or a dependency is away',
  RATE_LIMITED:
    'too many requests from this socket, address or identity; retry later (over HTTP with `Retry-After`)',
  INTERNAL: 'a fault of the node, not of the request',
};

const closeMeanings: Record<keyof typeof CloseCodes, string> = {
  normal: 'the participant left',
  goingAway: 'the edge is shutting down',
  unauthorized: 'bad, expired, missing or already used token',
  joinTimeout: 'no join within the deadline',
  replaced: 'the same identity joined the room again',
  roomClosed: 'the room was closed',
  removed: 'a moderator removed the participant, or refused its join from the lobby',
  meetingEnded: 'a moderator ended the meeting',
  tooManyBeforeJoin: 'too many messages before join',
  slowReader: 'the client did not read its messages (output buffer past its bound)',
  internal: 'internal error',
};

const rpcRows = (
  rpcs: Record<string, { request: TSchema; response: TSchema }>,
  meanings: Record<string, string>,
) =>
  Object.entries(rpcs).map(([method, { request, response }]) => [
    `\`${method}\``,
    fields(request),
    fields(response),
    meanings[method]!,
  ]);

export const protocolTables: Record<string, string> = {
  'signaling-requests': table(
    ['method', 'request `data`', 'response `data`'],
    Object.entries(Requests).map(([method, { request, response }]) => [
      `\`${method}\``,
      fields(request),
      fields(response),
    ]),
  ),
  'signaling-notifications': table(
    ['notification', '`data`'],
    Object.entries(Notifications).map(([name, schema]) => [`\`${name}\``, fields(schema)]),
  ),
  'nats-subjects': table(
    ['subject', 'from → to', 'payload'],
    Object.values(subjects).map(({ subject, route, payload }) => [`\`${subject}\``, route, payload]),
  ),
  'node-rpcs': table(['method', 'request', 'reply `data`', 'meaning'], rpcRows(NodeRpc, nodeRpcMeanings)),
  'control-rpcs': table(
    ['method', 'request', 'reply `data`', 'meaning'],
    rpcRows(ControlRpc, controlRpcMeanings),
  ),
  'error-codes': table(
    ['code', 'HTTP status', 'meaning'],
    ErrorCodes.map((code) => [`\`${code}\``, String(httpStatusOf(code)), errorMeanings[code]]),
  ),
  'close-codes': table(
    ['code', 'name', 'meaning'],
    Object.entries(CloseCodes)
      .sort(([, a], [, b]) => a - b)
      .map(([name, code]) => [String(code), `\`${name}\``, closeMeanings[name as keyof typeof CloseCodes]]),
  ),
};

if (import.meta.main)
  tablesCommand(
    new URL('../control-plane/protocol/README.md', import.meta.url),
    'protocol',
    protocolTables,
    'scripts/protocol-doc.ts',
  );
