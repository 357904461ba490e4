import { operatorText } from '@kaskade/local-mesh';
import { expect } from 'vitest';
import { eventually } from './edge.ts';

/**
 * The value of a series among /metrics lines, found by name and some of its labels
 * (prom-client orders labels differently per metric type); NaN when there is none.
 */
export function metricValue(
  lines: readonly string[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const line = lines.find(
    (l) =>
      (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) &&
      Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
  );
  return Number(line?.split(' ').pop() ?? Number.NaN);
}

/** The lines of a process's /metrics, from its operator API. */
export async function scrapeLines(operatorUrl: string, operatorToken: string): Promise<string[]> {
  return (await operatorText(operatorUrl, operatorToken, '/metrics')).split('\n');
}

/** The value of one series on a process's /metrics (see metricValue). */
export async function scrapeMetric(
  operatorUrl: string,
  operatorToken: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return metricValue(await scrapeLines(operatorUrl, operatorToken), name, labels);
}

/** Waits until every process in `nodes` shows `value` for the series `name` on its /metrics. */
export async function expectEveryProcessReports(
  nodes: readonly { operatorUrl: string }[],
  operatorToken: string,
  name: string,
  value: number,
  timeoutMs = 5000,
): Promise<void> {
  for (const node of nodes)
    await eventually(
      async () => expect(await scrapeMetric(node.operatorUrl, operatorToken, name)).toBe(value),
      timeoutMs,
    );
}
