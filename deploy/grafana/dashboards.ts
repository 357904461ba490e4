// The Grafana dashboards, one module each in boards/, listed here and written as JSON to
// deploy/grafana/dashboards/ (`node deploy/grafana/dashboards.ts --write`; a unit test fails
// when the JSON is stale).
// test/integration/prometheus.test.ts runs every panel's queries against a real Prometheus
// scraping a local mesh that carries media: a panel that does not parse, or returns no
// series while it should, fails CI.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cascade } from './boards/cascade.ts';
import { controlPlane } from './boards/control-plane.ts';
import { nodes } from './boards/nodes.ts';
import { overview } from './boards/overview.ts';
import { quality } from './boards/quality.ts';
import { toGrafana } from './grafana-json.ts';
import type { Dashboard } from './model.ts';

export const dashboards: Dashboard[] = [overview, nodes, cascade, quality, controlPlane];

/** A panel query as Grafana sends it with every region and node selected. */
export function resolveVariables(expr: string, rateInterval = '15s'): string {
  return expr
    .replaceAll('$region', '.*')
    .replaceAll('$node', '.*')
    .replaceAll('$__rate_interval', rateInterval);
}

export const dashboardDir = join(dirname(fileURLToPath(import.meta.url)), 'dashboards');
export const dashboardFile = (d: Dashboard) => join(dashboardDir, `${d.uid}.json`);
export const dashboardJson = (d: Dashboard) => `${JSON.stringify(toGrafana(d), null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const write = process.argv.includes('--write');
  let stale = 0;
  mkdirSync(dashboardDir, { recursive: true });
  for (const d of dashboards) {
    const file = dashboardFile(d);
    const current = (() => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    })();
    if (current === dashboardJson(d)) continue;
    stale++;
    if (write) writeFileSync(file, dashboardJson(d));
    console.log(`${write ? 'wrote' : 'stale'}: ${file}`);
  }
  if (stale && !write) process.exit(1);
}
