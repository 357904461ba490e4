import type { FastifyInstance } from 'fastify';

export interface HealthPluginOptions {
  /** Why the node is not ready, or null when it is. */
  notReadyReason: () => string | null;
}

/** /livez answers while the event loop runs; /readyz while the node takes joins. */
export async function healthPlugin(app: FastifyInstance, opts: HealthPluginOptions): Promise<void> {
  app.get('/livez', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const reason = opts.notReadyReason();
    if (reason) return reply.code(503).send({ status: 'unavailable', reason });
    return { status: 'ready' };
  });
}
