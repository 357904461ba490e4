import type { FastifyInstance } from 'fastify';

export interface HealthPluginOptions {
  /** Why the process should take no new work (e.g. 'draining', 'redis connecting'), or null when it may. */
  notReadyReason: () => string | null;
}

/**
 * The health routes of every process, on its public listener: /livez answers while
 * the event loop runs; /readyz answers 200 while the process takes new work and 503
 * with the reason otherwise, so a load balancer or Kubernetes stops sending it any.
 */
export async function healthPlugin(app: FastifyInstance, opts: HealthPluginOptions): Promise<void> {
  app.get('/livez', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const reason = opts.notReadyReason();
    if (reason) return reply.code(503).send({ status: 'unavailable', reason });
    return { status: 'ready' };
  });
}
