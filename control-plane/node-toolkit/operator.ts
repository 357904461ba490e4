import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { errorBody, HttpListener } from './http.ts';

/** The operator options every process's configuration carries (operatorOptions in option-groups.ts). */
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
  readonly #http: HttpListener;

  private constructor(http: HttpListener) {
    this.#http = http;
  }

  static async start(options: OperatorListenerOptions): Promise<OperatorListener> {
    const { operatorHost, operatorPort, operatorToken, operatorPreviousToken } = options.settings;
    const accepted = [operatorToken, operatorPreviousToken].flatMap((t) => (t ? [digest(t)] : []));
    const http = new HttpListener({
      logger: options.logger,
      // Unknown routes too: nobody probes the operator API without the token.
      guard: async (request, reply) => {
        const given = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        const givenDigest = given ? digest(given) : undefined;
        if (!givenDigest || !accepted.some((token) => timingSafeEqual(givenDigest, token))) {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer')
            .send(errorBody('UNAUTHORIZED', 'the operator API needs its bearer token'));
        }
      },
    });
    await options.routes(http.app);
    await http.listen({ host: operatorHost, port: operatorPort });
    return new OperatorListener(http);
  }

  /** http://host:port the operator API listens on. */
  get url(): string {
    return this.#http.url;
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
