import { readFileSync } from 'node:fs';
import {
  CONTROL_QUEUE,
  ControlRpc,
  type ControlRpcMethod,
  type ErrorCode,
  ErrorCodes,
  isInboxOf,
  KaskadeError,
  NodeRpc,
  type NodeRpcMethod,
  type RpcReply,
  Subjects,
  senderOf,
} from '@kaskade/protocol';
import {
  type Authenticator,
  AuthorizationError,
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription,
} from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { Counter, Gauge, type Histogram, type Registry } from 'prom-client';
import type { Static, TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import type { BusSettings } from './config-checks.ts';
import { labelCombinations, preinitialisedCounter, preinitialisedHistogram } from './metrics.ts';
import { settlesWithin } from './settles-within.ts';

const validators = new WeakMap<TSchema, Validator>();
/** How long close() lets a drain take before it closes the connection outright. */
const CLOSE_GRACE_MS = 3000;
function validator(schema: TSchema): Validator {
  let v = validators.get(schema);
  if (!v) {
    v = Compile(schema);
    validators.set(schema, v);
  }
  return v;
}

function firstError(schema: TSchema, value: unknown): string {
  const e = validator(schema).Errors(value)[0];
  return `${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`;
}

type RpcRequest<M extends NodeRpcMethod> = Static<(typeof NodeRpc)[M]['request']>;
type RpcResponse<M extends NodeRpcMethod> = Static<(typeof NodeRpc)[M]['response']>;
type ControlRequest<M extends ControlRpcMethod> = Static<(typeof ControlRpc)[M]['request']>;
type ControlResponse<M extends ControlRpcMethod> = Static<(typeof ControlRpc)[M]['response']>;

/**
 * The control bus: a NATS connection with typed, validated request/reply and
 * pub/sub, speaking as one node. Every subject this node publishes on ends with its
 * id and every handler is given the sender taken from the subject (nats-server's
 * permissions let a node's credentials publish only its own subjects). Replies come
 * back under the node's own inbox prefix, which only its credentials may subscribe
 * to. A malformed or unknown message is dropped or answered with a typed error,
 * never acted on. NATS reconnects by itself; media does not depend on it.
 */
export class Bus {
  readonly nodeId: string;
  readonly #nc: NatsConnection;
  readonly #logger: Logger;
  readonly #subscriptions: Subscription[] = [];
  readonly #metrics: BusMetrics | undefined;
  readonly #connectionListeners: { lost?: () => void; back?: () => void }[] = [];
  #connected = true;

  private constructor(nc: NatsConnection, nodeId: string, logger: Logger, registry?: Registry) {
    this.#nc = nc;
    this.nodeId = nodeId;
    this.#logger = logger;
    this.#metrics = registry && new BusMetrics(registry, () => this.#connected);
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          this.#connected = false;
          for (const l of this.#connectionListeners) l.lost?.();
        }
        if (status.type === 'reconnect') {
          this.#connected = true;
          for (const l of this.#connectionListeners) l.back?.();
        }
        // A denied publish or subscribe is a deployment error (permissions that do not
        // match the node id), or a bug: say so loudly, once per occurrence.
        if (status.type === 'error') logger.error({ err: status.error }, 'NATS refused an operation');
      }
    })();
  }

  /**
   * Connects to NATS as node `nodeId`; with a registry, the bus reports connectivity,
   * RPC latency and failures there. The settings were checked when the config loaded
   * (busSettingsProblems).
   */
  static async connect(
    settings: BusSettings,
    nodeId: string,
    logger: Logger,
    registry?: Registry,
  ): Promise<Bus> {
    const options = connectionOptions(settings, nodeId);
    // Until the first connection, each failed attempt is logged (a wrong CA or an
    // unreachable server would otherwise wait in silence); refused credentials end the
    // start at once. Once connected, the client reconnects by itself for ever.
    for (let attempt = 1; ; attempt++) {
      try {
        const nc = await connect({ ...options, waitOnFirstConnect: false });
        return new Bus(nc, nodeId, logger, registry);
      } catch (error) {
        if (error instanceof AuthorizationError) throw error;
        logger.warn({ err: error, attempt }, 'NATS not reachable yet; retrying');
        await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 5000)));
      }
    }
  }

  /** Serves one RPC method of this node; the handler learns who asks from the subject. */
  serveRpc<M extends NodeRpcMethod>(
    method: M,
    handler: (request: RpcRequest<M>, sender: string) => Promise<RpcResponse<M>>,
  ): void {
    this.#serve(Subjects.nodeRpc(this.nodeId, method, '*'), method, NodeRpc[method].request, handler);
  }

  /** Serves one control-plane method, in the replicas' queue group (one replica answers each request). */
  serveControlRpc<M extends ControlRpcMethod>(
    method: M,
    handler: (request: ControlRequest<M>, sender: string) => Promise<ControlResponse<M>>,
  ): void {
    this.#serve(Subjects.controlRpc(method, '*'), method, ControlRpc[method].request, handler, CONTROL_QUEUE);
  }

  #serve(
    subject: string,
    method: string,
    schema: TSchema,
    handler: (request: never, sender: string) => Promise<unknown>,
    queue?: string,
  ): void {
    const sub = this.#nc.subscribe(subject, {
      ...(queue ? { queue } : {}),
      callback: (err, msg) => {
        if (err) return this.#subscriptionFailed(err, subject);
        const sender = senderOf(msg.subject);
        // The answer may carry an SRTP key: it goes only where the sender alone can listen.
        if (!sender || !isInboxOf(msg.reply, sender)) {
          this.#metrics?.malformedDropped.inc();
          this.#logger.debug({ method }, 'bus request without a reply inbox of its sender dropped');
          return;
        }
        let payload: unknown;
        try {
          payload = msg.json();
        } catch {
          return void msg.respond(JSON.stringify(failure('BAD_REQUEST', 'not JSON')));
        }
        if (!validator(schema).Check(payload)) {
          this.#metrics?.malformedDropped.inc();
          this.#logger.debug({ method, problem: firstError(schema, payload) }, 'malformed bus request');
          return void msg.respond(
            JSON.stringify(failure('BAD_REQUEST', `${method}: ${firstError(schema, payload)}`)),
          );
        }
        handler(payload as never, sender).then(
          (data) => msg.respond(JSON.stringify({ ok: true, data })),
          (error: unknown) => {
            const e = error instanceof KaskadeError ? error : new KaskadeError('INTERNAL', String(error));
            if (e.code === 'INTERNAL') this.#logger.error({ err: error, method }, 'bus request failed');
            msg.respond(JSON.stringify(failure(e.code, e.message)));
          },
        );
      },
    });
    this.#subscriptions.push(sub);
  }

  /** Calls an RPC method of another node; throws KaskadeError on a typed error or a malformed reply. */
  async rpc<M extends NodeRpcMethod>(
    nodeId: string,
    method: M,
    request: RpcRequest<M>,
    timeoutMs = 5000,
  ): Promise<RpcResponse<M>> {
    const subject = Subjects.nodeRpc(nodeId, method, this.nodeId);
    const schema = NodeRpc[method].response;
    return (await this.#request(subject, method, nodeId, request, schema, timeoutMs)) as RpcResponse<M>;
  }

  /** Calls a control-plane method (any replica answers); throws KaskadeError as rpc() does. */
  async controlRpc<M extends ControlRpcMethod>(
    method: M,
    request: ControlRequest<M>,
    timeoutMs = 5000,
  ): Promise<ControlResponse<M>> {
    const subject = Subjects.controlRpc(method, this.nodeId);
    const schema = ControlRpc[method].response;
    return (await this.#request(
      subject,
      method,
      'the control plane',
      request,
      schema,
      timeoutMs,
    )) as ControlResponse<M>;
  }

  async #request(
    subject: string,
    method: string,
    nodeId: string,
    request: unknown,
    schema: TSchema,
    timeoutMs: number,
  ): Promise<unknown> {
    let reply: RpcReply<unknown>;
    const end = this.#metrics?.requestSeconds.startTimer({ method });
    try {
      const msg = await this.#nc.request(subject, JSON.stringify(request), { timeout: timeoutMs });
      reply = msg.json();
    } catch (error) {
      this.#metrics?.requestFailures.inc({ method, reason: 'unavailable' });
      throw new KaskadeError('UNAVAILABLE', `${method} to ${nodeId} failed: ${(error as Error).message}`);
    } finally {
      end?.();
    }
    if (reply?.ok === false) {
      this.#metrics?.requestFailures.inc({ method, reason: 'error_reply' });
      const code = (ErrorCodes as readonly string[]).includes(reply.error?.code)
        ? reply.error.code
        : 'INTERNAL';
      throw new KaskadeError(code as ErrorCode, reply.error?.message ?? 'remote error');
    }
    if (reply?.ok !== true || !validator(schema).Check(reply.data)) {
      this.#metrics?.requestFailures.inc({ method, reason: 'malformed' });
      throw new KaskadeError('INTERNAL', `${method} from ${nodeId}: malformed reply`);
    }
    return reply.data;
  }

  /**
   * Publishes a message on a subject built by Subjects (for this node's own subjects:
   * with this node's id as sender); one that breaks its own contract is a bug, so it throws.
   */
  publish<S extends TSchema>(subject: string, schema: S, message: Static<S>): void {
    if (!validator(schema).Check(message)) throw new TypeError(`${subject}: ${firstError(schema, message)}`);
    this.#nc.publish(subject, JSON.stringify(message));
  }

  /**
   * Subscribes with validation: malformed messages are counted and dropped. The handler
   * gets the sender from the subject's last token (and the subject itself); a subject that carries none (node-dead,
   * which only the control plane's credentials may publish) is read with
   * `senderInSubject: false` and gives ''. With a `queue`, each message goes to one
   * subscriber of that queue group (one control-plane replica handles it).
   */
  subscribe<S extends TSchema>(
    subject: string,
    schema: S,
    handler: (message: Static<S>, sender: string, subject: string) => void,
    { senderInSubject = true, queue }: { senderInSubject?: boolean; queue?: string } = {},
  ): () => void {
    const sub = this.#nc.subscribe(subject, {
      ...(queue ? { queue } : {}),
      callback: (err, msg) => {
        if (err) return this.#subscriptionFailed(err, subject);
        const sender = senderInSubject ? senderOf(msg.subject) : '';
        let payload: unknown;
        try {
          payload = msg.json();
        } catch {
          payload = undefined;
        }
        if (sender === undefined || !validator(schema).Check(payload)) {
          this.#metrics?.malformedDropped.inc();
          this.#logger.debug(
            {
              subject: msg.subject,
              problem: sender === undefined ? 'no sender' : firstError(schema, payload),
            },
            'malformed bus message dropped',
          );
          return;
        }
        handler(payload as Static<S>, sender, msg.subject);
      },
    });
    this.#subscriptions.push(sub);
    return () => sub.unsubscribe();
  }

  /** Calls back on each loss of the connection and each return. */
  onConnectionChange(callbacks: { lost?: () => void; back?: () => void }): void {
    this.#connectionListeners.push(callbacks);
  }

  /** A subscription that failed leaves this node deaf to its subject: said at ERROR and counted, never swallowed. */
  #subscriptionFailed(err: Error, subject: string): void {
    this.#metrics?.subscriptionFailures.inc();
    this.#logger.error({ err, subject }, 'NATS subscription failed: this node no longer hears the subject');
  }

  /**
   * Drains (in-flight handlers finish, the server flushes), but not for ever: a drain
   * waits on the server and on every handler, and a stop must not hang on either.
   */
  async close(): Promise<void> {
    if (!(await settlesWithin(this.#nc.drain(), CLOSE_GRACE_MS)))
      await this.#nc.close().catch(() => undefined);
  }
}

/** NATS connectivity, RPC latency by method, RPC failures and dropped malformed messages. */
class BusMetrics {
  readonly requestSeconds: Histogram<'method'>;
  readonly requestFailures: Counter<'method' | 'reason'>;
  readonly malformedDropped: Counter;
  readonly subscriptionFailures: Counter;

  constructor(registry: Registry, connected: () => boolean) {
    const registers = [registry];
    new Gauge({
      name: 'kaskade_nats_connected',
      help: '1 while this process is connected to NATS, else 0',
      registers,
      collect() {
        this.set(connected() ? 1 : 0);
      },
    });
    const method = [...Object.keys(NodeRpc), ...Object.keys(ControlRpc)];
    this.requestSeconds = preinitialisedHistogram({
      name: 'kaskade_nats_request_seconds',
      help: 'Round trip of NATS requests to other nodes, by method',
      labelNames: ['method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5],
      registers,
      zeroed: labelCombinations({ method }),
    });
    this.requestFailures = preinitialisedCounter({
      name: 'kaskade_nats_request_failures_total',
      help: 'NATS requests that failed: unavailable (no reply in time), error_reply (a typed error), malformed (a reply breaking its schema)',
      labelNames: ['method', 'reason'],
      registers,
      zeroed: labelCombinations({ method, reason: ['unavailable', 'error_reply', 'malformed'] }),
    });
    this.malformedDropped = new Counter({
      name: 'kaskade_nats_malformed_messages_total',
      help: 'Messages received on NATS that broke their schema and were dropped',
      registers,
    });
    this.subscriptionFailures = new Counter({
      name: 'kaskade_nats_subscription_failures_total',
      help: 'NATS subscriptions that failed (a permission denied, a subject refused): this node misses what is sent there',
      registers,
    });
  }
}

/** The NATS client options for a node: servers, TLS, one authenticator and the node's own inbox prefix. */
export function connectionOptions(settings: BusSettings, nodeId: string): NodeConnectionOptions {
  const servers = settings.natsUrl.split(',');
  const tls = settings.natsCaFile || servers.some((u) => u.startsWith('tls://'));
  let authenticator: Authenticator | undefined;
  if (settings.natsCredsFile) {
    const file = settings.natsCredsFile;
    // Read at each (re)connect, so a rotated creds file is picked up.
    authenticator = credsAuthenticator(() => new Uint8Array(readFileSync(file)));
  }
  return {
    // The client takes host:port; TLS is asked for by the tls option, not the scheme.
    servers: servers.map((u) => u.replace(/^(nats|tls):\/\//, '')),
    name: nodeId,
    inboxPrefix: Subjects.inboxPrefix(nodeId),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    // An object (even empty) makes TLS required: a server without it is refused.
    tls: tls
      ? {
          caFile: settings.natsCaFile,
          certFile: settings.natsCertFile,
          keyFile: settings.natsKeyFile,
        }
      : undefined,
    user: settings.natsUser,
    pass: settings.natsPassword,
    token: settings.natsToken,
    authenticator,
  };
}

function failure(code: ErrorCode, message: string): RpcReply<never> {
  return { ok: false, error: { code, message } };
}
