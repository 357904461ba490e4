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

/** The value of one series on a process's /metrics (see metricValue). */
export async function scrapeMetric(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return metricValue(text.split('\n'), name, labels);
}
