import { createHash, timingSafeEqual } from 'node:crypto';
import { type ErrorCode, httpStatusOf, KaskadeError } from '@kaskade/protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';

/** The operator options every process's configuration carries (operatorOptions in env-config.ts). */
export interface OperatorSettings {
  operatorHost: string;
  operatorPort: number;
  operatorToken: string;
  /** A token being rotated out, accepted too until the operator removes it. */
  operatorPreviousToken?: string;
}

export interface OperatorListenerOptions {
  settings: OperatorSettings;
  logger: Logger;
  /** Registers the process's operator routes. */
  routes: (app: FastifyInstance) => Promise<void>;
}

// Hashing both sides gives equal lengths, so the comparison time says nothing about the token.
const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The operator listener every process runs beside its public one: metrics, censuses
 * and the control plane's node and room views, which name participants and reveal
 * the topology, so they sit on their own address (loopback by default) behind a
 * bearer token. The public listener keeps only what clients need.
 */
export class OperatorListener {
  readonly #app: FastifyInstance;

  private constructor(app: FastifyInstance) {
    this.#app = app;
  }

  static async start(options: OperatorListenerOptions): Promise<OperatorListener> {
    const app = Fastify({
      loggerInstance: options.logger as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
    });
    const { operatorHost, operatorPort, operatorToken, operatorPreviousToken } = options.settings;
    const accepted = [operatorToken, operatorPreviousToken].flatMap((t) => (t ? [digest(t)] : []));
    // One check for every route, registered before them: none can be added without it.
    app.addHook('onRequest', async (request, reply) => {
      const given = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      const givenDigest = given ? digest(given) : undefined;
      if (!givenDigest || !accepted.some((token) => timingSafeEqual(givenDigest, token))) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send(typed('UNAUTHORIZED', 'the operator API needs its bearer token'));
      }
    });
    app.setNotFoundHandler((request, reply) =>
      reply.code(404).send(typed('NOT_FOUND', `no operator route ${request.method} ${request.url}`)),
    );
    app.setErrorHandler((error, _request, reply) => {
      if ((error as { validation?: unknown }).validation)
        return reply.code(400).send(typed('BAD_REQUEST', (error as Error).message));
      if (error instanceof KaskadeError && error.code !== 'INTERNAL')
        return reply.code(httpStatusOf(error.code)).send(typed(error.code, error.message));
      options.logger.error({ err: error }, 'operator request failed');
      return reply.code(500).send(typed('INTERNAL', 'internal error'));
    });
    await options.routes(app);
    try {
      await app.listen({ host: operatorHost, port: operatorPort });
    } catch (error) {
      await app.close();
      throw error;
    }
    return new OperatorListener(app);
  }

  /** http://host:port the operator API listens on. */
  get url(): string {
    const address = this.#app.server.address();
    if (!address || typeof address === 'string') throw new Error('operator API is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  close(): Promise<void> {
    return this.#app.close();
  }
}

function typed(code: ErrorCode, message: string) {
  return { code, message };
}
