import type { FastifyInstance } from 'fastify';
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type LabelValues,
  Registry,
} from 'prom-client';

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

/** Label sets a metric has from the start, at zero (preinitialisedCounter and its siblings). */
interface Zeroed<T extends string> {
  zeroed: Iterable<LabelValues<NoInfer<T>>>;
}

/**
 * A counter with every label set of `zeroed` present from the start: the series set
 * never changes at run time, so dashboards and alerts see zeros, not gaps, and the
 * first event is a rise rate() sees.
 */
export function preinitialisedCounter<T extends string>(
  config: CounterConfiguration<T> & Zeroed<T>,
): Counter<T> {
  const { zeroed, ...rest } = config;
  const counter = new Counter(rest);
  for (const labels of zeroed) counter.inc(labels, 0);
  return counter;
}

/** A gauge with every label set of `zeroed` present from the start (see preinitialisedCounter). */
export function preinitialisedGauge<T extends string>(config: GaugeConfiguration<T> & Zeroed<T>): Gauge<T> {
  const { zeroed, ...rest } = config;
  const gauge = new Gauge(rest);
  for (const labels of zeroed) gauge.set(labels, 0);
  return gauge;
}

/** A histogram with every label set of `zeroed` present from the start (see preinitialisedCounter). */
export function preinitialisedHistogram<T extends string>(
  config: HistogramConfiguration<T> & Zeroed<T>,
): Histogram<T> {
  const { zeroed, ...rest } = config;
  const histogram = new Histogram(rest);
  for (const labels of zeroed) histogram.zero(labels);
  return histogram;
}

/** Every combination of the given label values, e.g. each direction with each transport. */
export function labelCombinations<T extends string>(
  values: Record<T, readonly (string | number)[]>,
): LabelValues<T>[] {
  return (Object.entries(values) as [T, readonly (string | number)[]][]).reduce<LabelValues<T>[]>(
    (sets, [name, options]) => sets.flatMap((set) => options.map((value) => ({ ...set, [name]: value }))),
    [{}],
  );
}
