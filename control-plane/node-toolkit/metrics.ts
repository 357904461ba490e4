import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One Prometheus registry per process, `kaskade_` prefix, default Node.js metrics
 * (event-loop lag included) and the process's node, region and kind as default labels.
 * Labels stay low-cardinality: node, region, worker and small enumerations, never room
 * or participant ids.
 */
export function createMetricsRegistry(labels: { node: string; region: string; kind: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'kaskade_' });
  return registry;
}

/** GET /metrics in the Prometheus text format. */
export async function metricsPlugin(app: FastifyInstance, opts: { registry: Registry }): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', opts.registry.contentType);
    return opts.registry.metrics();
  });
}
