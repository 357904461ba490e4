import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardFile, dashboardJson, dashboards, formatValue, renderDashboard } from '@kaskade/dashboards';
import { expect, it } from 'vitest';

const deploy = (path: string) => fileURLToPath(new URL(`../../deploy/${path}`, import.meta.url));
const rulesFile = deploy('prometheus/alerts.yml');

it('promtool accepts the alert rules and the example scrape configuration', () => {
  // The example as deployed: next to its rules and the operator token file it names.
  const dir = mkdtempSync(join(tmpdir(), 'kaskade-promtool-'));
  try {
    copyFileSync(deploy('prometheus/prometheus.example.yml'), join(dir, 'prometheus.yml'));
    copyFileSync(rulesFile, join(dir, 'alerts.yml'));
    writeFileSync(join(dir, 'kaskade-operator-token'), 'x'.repeat(32), { mode: 0o600 });
    for (const args of [
      ['check', 'rules', rulesFile],
      ['check', 'config', join(dir, 'prometheus.yml')],
    ]) {
      const run = spawnSync('promtool', args, { encoding: 'utf8' });
      expect(run.status, `promtool ${args.join(' ')}\n${run.stdout}${run.stderr}`).toBe(0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('every alert has a summary, a severity and a runbook in deploy/README.md', () => {
  const rules = readFileSync(rulesFile, 'utf8')
    .split(/^\s+- alert: /m)
    .slice(1);
  const readme = readFileSync(deploy('README.md'), 'utf8');
  expect(rules.length).toBeGreaterThanOrEqual(10);
  for (const rule of rules) {
    const name = rule.split('\n')[0]!.trim();
    expect(rule, name).toMatch(/summary: "/);
    expect(rule, name).toMatch(/severity: (warning|critical)/);
    expect(rule, name).toContain(`runbook_url: "deploy/README.md#${name.toLowerCase()}"`);
    expect(readme, name).toMatch(new RegExp(`^### ${name}\\n\\n\\S`, 'm'));
  }
});

it('the dashboard JSON is generated from deploy/grafana/dashboards.ts and is complete', () => {
  expect(dashboards.map((d) => d.uid)).toEqual([
    'kaskade-overview',
    'kaskade-nodes',
    'kaskade-cascade',
    'kaskade-quality',
    'kaskade-control-plane',
  ]);
  for (const dashboard of dashboards) {
    // Regenerate with: node deploy/grafana/dashboards.ts --write
    expect(readFileSync(dashboardFile(dashboard), 'utf8'), dashboard.uid).toBe(dashboardJson(dashboard));
    const json = JSON.parse(dashboardJson(dashboard)) as {
      templating: { list: { name: string }[] };
      panels: {
        type: string;
        title: string;
        description?: string;
        datasource?: { uid: string };
        fieldConfig?: { defaults: { unit?: string } };
        targets?: { expr: string }[];
      }[];
    };
    expect(json.templating.list.map((v) => v.name)).toEqual(['datasource', 'region', 'node']);
    const panels = json.panels.filter((p) => p.type !== 'row');
    expect(panels.length, dashboard.uid).toBeGreaterThanOrEqual(6);
    for (const panel of panels) {
      expect(panel.title).toMatch(/\S/);
      expect(panel.description, panel.title).toMatch(/\S/);
      expect(panel.fieldConfig?.defaults.unit, panel.title).toMatch(/\S/);
      expect(panel.datasource?.uid, panel.title).toBe('$' + '{datasource}'); // Grafana's variable syntax
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? [])
        expect(target.expr, panel.title).toMatch(/kaskade_|ALERTS|up\{/);
    }
  }
});

it("the preview renderer prints values in the panels' units and draws a PNG", () => {
  expect(formatValue(2_500_000, 'bps')).toBe('2.5 Mb/s');
  expect(formatValue(0.0123, 's')).toBe('12.3 ms');
  expect(formatValue(0.5, 'percentunit')).toBe('50%');
  expect(formatValue(3 * 2 ** 20, 'bytes')).toBe('3 MiB');
  expect(formatValue(Number.NaN, 'short')).toBe('–');
  const overview = dashboards[0]!;
  const panels = overview.rows.flatMap((r) => r.panels);
  const data = panels.map(() => [
    { legend: 'eu', points: [[0, 1] as [number, number], [10, 2] as [number, number]] },
  ]);
  const png = renderDashboard(overview, data, 'test');
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  expect(png.length).toBeGreaterThan(10_000);
});
