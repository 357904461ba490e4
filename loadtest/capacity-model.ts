// The capacity model, one command:
//   node loadtest/capacity-model.ts --scenario lecture-100k|lecture-100k-resync-30s|meeting-1000|meeting-1000-raised
//   node loadtest/capacity-model.ts --kind lecture --regions eu=3000,us=2000 [--cameras 1] [--microphones 1]
//     [--unmuted 1] [--speaking 1] [--layer 2] [--last-n 9] [--cores 8] [--bandwidth-gbps 10] [--target 0.7]
//     [--join-seconds 300] [--replicas 2] [--option KASKADE_FANOUT_LIMIT=4 ...] [--json]
//   node loadtest/capacity-model.ts --readme   (rewrites the tables of deploy/README's "## Sizing" and docs/capacity.md)
// From the figures the benchmarks measured (loadtest/capacity/figures.ts) and the options'
// defaults, what a conference needs: nodes per region and kind, bytes per link and region
// boundary, NATS and Redis rates, tree depth and fan-out, and which limit binds first.
// Prints the table and writes a markdown report to loadtest/reports/capacity-<name>-<date>.md.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ConferenceInput,
  capacityModel,
  type MeshOptions,
  markdownReport,
  num,
  OPTION_ENV,
  resultRows,
  SCENARIOS,
  type ScenarioName,
  SIZING_DOCS,
  withBlocks,
} from '@kaskade/capacity';

const { values: a } = parseArgs({
  options: {
    scenario: { type: 'string' },
    kind: { type: 'string', default: 'lecture' },
    regions: { type: 'string' },
    cameras: { type: 'string' },
    microphones: { type: 'string' },
    unmuted: { type: 'string' },
    speaking: { type: 'string' },
    layer: { type: 'string' },
    'last-n': { type: 'string' },
    cores: { type: 'string' },
    'bandwidth-gbps': { type: 'string' },
    target: { type: 'string' },
    'join-seconds': { type: 'string' },
    replicas: { type: 'string' },
    option: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
    out: { type: 'string', default: 'loadtest/reports' },
  },
});

function fail(message: string): never {
  console.error(`capacity-model: ${message}`);
  process.exit(2);
}

if (a.readme) {
  for (const [path, blocks] of Object.entries(SIZING_DOCS)) {
    const { text, missing } = withBlocks(readFileSync(path, 'utf8'), blocks());
    if (missing.length) fail(`${path} lacks the markers of ${missing.join(', ')}`);
    writeFileSync(path, text);
    console.log(`${path}: sizing tables rewritten`);
  }
  process.exit(0);
}

const positive = (name: string, value: string | undefined) => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} takes a number >= 0, not ${value}`);
  return n;
};

function fromArgs(): { name: string; input: ConferenceInput } {
  if (a.scenario) {
    if (!(a.scenario in SCENARIOS)) fail(`--scenario is one of ${Object.keys(SCENARIOS).join(', ')}`);
    return { name: a.scenario, input: SCENARIOS[a.scenario as ScenarioName] };
  }
  if (a.kind !== 'lecture' && a.kind !== 'meeting') fail('--kind is lecture or meeting');
  if (!a.regions) fail('give --scenario, or --regions name=participants,...');
  const regions: Record<string, number> = {};
  for (const part of a.regions.split(',')) {
    const [region, n] = part.split('=');
    if (!region || positive('regions', n) === undefined) fail(`--regions: ${part} is not name=participants`);
    regions[region] = Number(n);
  }
  const options: Partial<MeshOptions> = {};
  for (const o of a.option ?? []) {
    const [env, value] = o.split('=');
    const key = Object.entries(OPTION_ENV).find(([, e]) => e === env)?.[0] as keyof MeshOptions | undefined;
    if (!key) fail(`--option: ${env} is not one the model takes (${Object.values(OPTION_ENV).join(', ')})`);
    options[key] = positive('option', value);
  }
  const bandwidth = positive('bandwidth-gbps', a['bandwidth-gbps']);
  const input: ConferenceInput = {
    kind: a.kind,
    regions,
    cameras: positive('cameras', a.cameras),
    microphones: positive('microphones', a.microphones),
    unmuted: positive('unmuted', a.unmuted),
    speaking: positive('speaking', a.speaking),
    viewerLayer: positive('layer', a.layer),
    lastN: positive('last-n', a['last-n']),
    nodeCores: positive('cores', a.cores),
    nodeBandwidthBps: bandwidth === undefined ? undefined : bandwidth * 1e9,
    targetLoad: positive('target', a.target),
    joinSeconds: positive('join-seconds', a['join-seconds']),
    controlPlaneReplicas: positive('replicas', a.replicas),
    options: { ...options },
  };
  // Options left out keep their defaults (undefined fields would override them).
  for (const [k, v] of Object.entries(input))
    if (v === undefined) delete (input as Record<string, unknown>)[k];
  return { name: `${a.kind}-${Object.values(regions).reduce((x, y) => x + y, 0)}`, input };
}

const { name, input } = fromArgs();
const result = capacityModel(input);
if (a.json) {
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
const rows = resultRows(result);
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
console.log('\nlimits, the first to bind first:');
for (const l of result.limits)
  console.log(
    `  ${l.ratio > 1 ? '!' : ' '} ${l.name.padEnd(26)} ${num(l.ratio).padStart(8)}  ${num(l.used)} / ${num(l.limit)} ${l.unit}`,
  );
mkdirSync(a.out, { recursive: true });
const file = join(a.out, `capacity-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
writeFileSync(file, markdownReport(name, result));
console.log(`\nreport: ${file}`);
