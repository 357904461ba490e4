import { type ErrorCode, httpStatusOf, KaskadeError } from '@kaskade/protocol';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type onRequestAsyncHookHandler,
} from 'fastify';
import type { Logger } from 'pino';
import { healthPlugin } from './health.ts';
import { settlesWithin } from './settles-within.ts';

/** How long close() lets responses in flight finish before it cuts their connections. */
const CLOSE_GRACE_MS = 2000;

export interface HttpListenerOptions {
  logger: Logger;
  /**
   * The health routes (/livez, /readyz) of a public listener: why the process takes
   * no new work now (e.g. 'draining'), or null when it does. Omitted: no health routes.
   */
  notReadyReason?: () => string | null;
  /** A check every request passes first, unknown routes included (the operator's bearer token). */
  guard?: onRequestAsyncHookHandler;
}

/** The body of every refusal: the typed error code and a message. */
export function errorBody(code: ErrorCode, message: string): { code: ErrorCode; message: string } {
  return { code, message };
}

/**
 * The one way a Kaskade process serves HTTP, its public listener and its operator API
 * alike: fastify on the process's logger without a line per request, every answer
 * that is not a success a typed error body, and the health routes on public listeners.
 * What a client caused is answered with its code and logged at debug; only our own
 * failures are errors (500 INTERNAL, the details in the log, not in the answer).
 * Routes go on `app` before listen().
 */
export class HttpListener {
  readonly app: FastifyInstance;

  constructor(options: HttpListenerOptions) {
    const app = Fastify({
      loggerInstance: options.logger as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
    });
    this.app = app;
    // Registered before any route, so none can be added without it.
    if (options.guard) app.addHook('onRequest', options.guard);
    app.setNotFoundHandler((request, reply) =>
      reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url}`)),
    );
    app.setErrorHandler((error, request, reply) => {
      if (error instanceof KaskadeError && error.code !== 'INTERNAL') {
        request.log.debug({ code: error.code, message: error.message }, 'request refused');
        return reply.code(httpStatusOf(error.code)).send(errorBody(error.code, error.message));
      }
      const message = (error as Error).message;
      if ((error as { validation?: unknown }).validation) {
        request.log.debug({ message }, 'request refused: invalid');
        return reply.code(400).send(errorBody('BAD_REQUEST', message));
      }
      // Fastify's own refusals of a request: bad JSON, an empty or oversized body, a wrong type.
      const statusCode = (error as { statusCode?: number }).statusCode ?? 500;
      if (statusCode >= 400 && statusCode < 500) {
        const code = statusCode === 413 ? 'MESSAGE_TOO_LARGE' : 'BAD_REQUEST';
        request.log.debug({ code, message }, 'request refused: unreadable');
        return reply.code(statusCode).send(errorBody(code, message));
      }
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send(errorBody('INTERNAL', 'internal error'));
    });
    if (options.notReadyReason) void app.register(healthPlugin, { notReadyReason: options.notReadyReason });
  }

  /** Listens; a listener that could not is closed (its port is not held). */
  async listen(at: { host: string; port: number }): Promise<void> {
    try {
      await this.app.listen(at);
    } catch (error) {
      await this.app.close();
      throw error;
    }
  }

  /** http://host:port it listens on. */
  get url(): string {
    const address = this.app.server.address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /**
   * Refuses new connections and closes idle ones at once; a response still being sent
   * gets CLOSE_GRACE_MS, then every connection is cut. (A client that stops reading a
   * large response, /metrics say, otherwise holds the process's stop until SIGKILL.)
   */
  async close(): Promise<void> {
    const closed = this.app.close();
    if (!(await settlesWithin(closed, CLOSE_GRACE_MS))) {
      this.app.server.closeAllConnections();
      await closed;
    }
  }
}
