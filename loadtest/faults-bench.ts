// The faults benchmark, one command:
//   node loadtest/faults-bench.ts [--viewers 100] [--out loadtest/reports] [--scenarios tree-change,drain]
// For each scenario, a fresh local mesh (regions eu and us, 2 edges and a relay each, plain
// RTP), the recorded VP8 simulcast + Opus presenter on edge-eu-1 and the viewers spread over
// the edges; once settled, the fault (loadtest/lib/fault-scenarios.ts). Each viewer's media
// gap (the longest silence between two RTP packets of a stream, at arrival) in the fault's
// window, for the viewers it concerns and for the bystanders. Prints the figures and writes
// report.json, report.md, PNG charts and the processes' warnings to <out>/faults-<date>/.
// Smoke check (well under 2 min): node loadtest/faults-bench.ts --viewers 6 --scenarios tree-change
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  barChart,
  GapMeter,
  type GapStats,
  gapStats,
  NOTICEABLE_GAP_MS,
  ORIGIN,
  OTHER_REGION_RELAY,
  Presenter,
  prepareRecordedMedia,
  SCENARIOS,
  type Scenario,
  type ScenarioContext,
  sleep,
  upstreamsBecome,
  Viewer,
  type ViewerGaps,
} from '@kaskade/load-tools';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';

const { values: args } = parseArgs({
  options: {
    viewers: { type: 'string', default: '100' },
    out: { type: 'string', default: 'loadtest/reports' },
    scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
  },
});
const VIEWERS = Number(args.viewers);
const wanted = args.scenarios.split(',').map((s) => s.trim());
const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
if (unknown.length || !(VIEWERS >= 1)) {
  console.error(`usage: --viewers N (>= 1) --scenarios ${SCENARIOS.map((s) => s.name).join(',')}`);
  process.exit(2);
}
/** A scenario that has not finished by then is abandoned (its processes stopped) and reported failed. */
const SCENARIO_TIMEOUT_MS = 4 * 60_000;

const EDGE_ENV = {
  KASKADE_ALLOW_PLAIN_RTP: 'true',
  KASKADE_LOG_LEVEL: 'warn',
  // Room for everyone on one edge: placement of rejoins is not limited by capacity.
  KASKADE_NODE_CAPACITY: String(VIEWERS + 20),
  // The tree change's second edge gives the room up soon after its viewer left.
  KASKADE_ROOM_EMPTY_GRACE_MS: '1000',
};
const CP_ENV = { KASKADE_LOG_LEVEL: 'warn' };

interface PhaseResult {
  phase: string;
  durationMs: number;
  concerned: GapStats;
  bystanders: GapStats;
  /** The bench process's own worst event-loop stall in the window (inflates every gap alike). */
  benchEventLoopMaxMs: number;
  notes: Record<string, unknown>;
}

interface ScenarioResult {
  name: string;
  description: string;
  viewers: number;
  placement: Record<string, number>;
  /** Worst gap of any viewer in 2 s of the settled lecture before the fault (the noise floor). */
  settledMaxGapMs: number | null;
  /** How long settling took (the tree's shape, then a quiet window). */
  settleMs: number;
  /** Over all phases, per viewer its worst. */
  concerned: GapStats;
  bystanders: GapStats;
  phases: PhaseResult[];
  /** Error notifications the edges sent the participants, by code. */
  edgeReportedErrors: Record<string, number>;
  error?: string;
}

// The SDK's signaling channel warns of every error an edge notifies; counted per scenario instead.
const edgeReported: Record<string, number> = {};
const warn = console.warn;
console.warn = (...what: unknown[]) => {
  if (what[0] !== 'kaskade: edge reported') return warn(...what);
  const { code = 'unknown' } = (what[1] ?? {}) as { code?: string };
  edgeReported[code] = (edgeReported[code] ?? 0) + 1;
};

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

async function bounded<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Per viewer, its worst phase. */
function worstOf(phases: ViewerGaps[][]): ViewerGaps[] {
  const worst = new Map<string, ViewerGaps>();
  for (const gaps of phases)
    for (const g of gaps) if (g.maxGapMs >= (worst.get(g.viewer)?.maxGapMs ?? -1)) worst.set(g.viewer, g);
  return [...worst.values()];
}

async function runScenario(scenario: Scenario, logLines: string[]): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    name: scenario.name,
    description: scenario.description,
    viewers: VIEWERS,
    placement: {},
    settledMaxGapMs: null,
    settleMs: 0,
    concerned: gapStats([]),
    bystanders: gapStats([]),
    phases: [],
    edgeReportedErrors: {},
  };
  for (const code of Object.keys(edgeReported)) delete edgeReported[code];
  let mesh: LocalMesh | undefined;
  const participants: { close(): Promise<void> }[] = [];
  const extras = new Map<string, { close(): Promise<void> }>();
  const abandon = { now: false };
  const work = (async () => {
    mesh = await startLocalMesh({
      regions: { eu: '127.0.1', us: '127.0.2' },
      edgesPerRegion: 2,
      relaysPerRegion: 1,
      edgeEnv: EDGE_ENV,
      controlPlaneEnv: CP_ENV,
      log: (source, line) => logLines.push(`${new Date().toISOString()} ${source} ${line}`),
    });
    const room = `faults-${scenario.name}`;
    const meter = new GapMeter();
    const presenter = await Presenter.start(mesh, room, ORIGIN, media);
    participants.push(presenter);
    const edges = scenario.viewerEdges ?? mesh.edges.map((e) => e.nodeId);
    const viewers: Viewer[] = [];
    for (let wave = 0; wave * 20 < VIEWERS && !abandon.now; wave++) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, VIEWERS - wave * 20) }, (_, i) => {
          const n = wave * 20 + i;
          return Viewer.join(mesh!, room, `viewer-${n}`, edges[n % edges.length]!, meter);
        }),
      );
      viewers.push(...batch);
      participants.push(...batch);
      await sleep(250);
    }
    for (const v of viewers) result.placement[v.home] = (result.placement[v.home] ?? 0) + 1;
    const everyoneReceives = async (minMs: number, maxMs: number, who = viewers) => {
      const start = performance.now();
      await sleep(minMs);
      while (performance.now() - start < maxMs && !who.every((v) => v.receiving(performance.now())))
        await sleep(100);
    };
    await everyoneReceives(1000, 30_000);
    const silent = viewers.filter((v) => !v.receiving(performance.now())).length;
    if (silent > 0) throw new Error(`${silent} viewers receive nothing in the settled lecture`);
    // Settled: with viewers on both us edges, region us takes the lecture through its relay
    // (heartbeats and resyncs carry the room to every edge); then 2 s without a gap over
    // 100 ms for anyone, or the last of such windows within 40 s.
    const settling = performance.now();
    const sinceSettling = { mesh, room, elapsed: () => performance.now() - settling };
    const usEdges = mesh.edges.filter((e) => e.region === 'us' && edges.includes(e.nodeId));
    if (usEdges.length > 1)
      for (const e of usEdges)
        await upstreamsBecome(sinceSettling, e.nodeId, (up) => up.join() === OTHER_REGION_RELAY, 30_000);
    do {
      meter.window(performance.now());
      await sleep(2000);
      result.settledMaxGapMs = gapStats(meter.read(performance.now())).maxGapMs;
    } while ((result.settledMaxGapMs ?? 0) > NOTICEABLE_GAP_MS && sinceSettling.elapsed() < 40_000);
    result.settleMs = Math.round(sinceSettling.elapsed());

    const concerned = viewers.filter((v) => scenario.concerns(v.home));
    const isConcerned = new Set(concerned.map((v) => v.identity));
    const perPhase: ViewerGaps[][] = [];
    for (const phase of scenario.phases) {
      const notes: Record<string, unknown> = {};
      const start = performance.now();
      const ctx: ScenarioContext = {
        mesh,
        room,
        presenter,
        viewers,
        concerned,
        notes,
        extras,
        settle: everyoneReceives,
        elapsed: () => performance.now() - start,
      };
      loop.reset();
      meter.window(start);
      await phase.run(ctx);
      // The phase ends once everyone receives again (bystanders may still be moving), and 2 s on.
      await everyoneReceives(0, 20_000);
      await sleep(2000);
      const end = performance.now();
      const gaps = meter.read(end);
      perPhase.push(gaps);
      result.phases.push({
        phase: phase.name,
        durationMs: Math.round(end - start),
        concerned: gapStats(gaps.filter((g) => isConcerned.has(g.viewer))),
        bystanders: gapStats(gaps.filter((g) => !isConcerned.has(g.viewer))),
        benchEventLoopMaxMs: Math.round(loop.max / 1e6),
        notes,
      });
    }
    const worst = worstOf(perPhase);
    result.concerned = gapStats(worst.filter((g) => isConcerned.has(g.viewer)));
    result.bystanders = gapStats(worst.filter((g) => !isConcerned.has(g.viewer)));
  })();
  try {
    await bounded(scenario.name, work, SCENARIO_TIMEOUT_MS);
  } catch (error) {
    abandon.now = true;
    result.error = error instanceof Error ? error.message : String(error);
    console.error(`${scenario.name} failed: ${result.error}`);
  } finally {
    const closing = [...extras.values(), ...participants].map((p) => p.close().catch(() => undefined));
    await bounded('closing the participants', Promise.all(closing), 15_000).catch(() => undefined);
    // startLocalMesh cleans up after itself if it failed; a mesh that started is stopped
    // here, and again should an abandoned start finish only after that.
    const stopped = mesh as LocalMesh | undefined;
    await stopped?.stop();
    await bounded('the abandoned scenario', work, 30_000).catch(() => undefined);
    if (mesh !== stopped) await (mesh as LocalMesh | undefined)?.stop();
    result.edgeReportedErrors = { ...edgeReported };
  }
  return result;
}

const media = prepareRecordedMedia(join(tmpdir(), 'kaskade-recorded-media'), 10);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const dir = join(args.out, `faults-${stamp}`);
mkdirSync(dir, { recursive: true });
const results: ScenarioResult[] = [];
for (const scenario of SCENARIOS.filter((s) => wanted.includes(s.name))) {
  const logLines: string[] = [];
  const started = Date.now();
  console.log(`scenario ${scenario.name} ...`);
  const r = await runScenario(scenario, logLines);
  results.push(r);
  writeFileSync(join(dir, `${scenario.name}.log`), `${logLines.join('\n')}\n`);
  console.log(
    `  done in ${((Date.now() - started) / 1000).toFixed(0)} s: concerned max ${r.concerned.maxGapMs} ms, bystanders.maxGapMs ${r.bystanders.maxGapMs}${r.error ? ` (failed: ${r.error})` : ''}`,
  );
}

const report = {
  date: new Date().toISOString(),
  config: {
    viewers: VIEWERS,
    regions: { eu: '127.0.1', us: '127.0.2' },
    edgesPerRegion: 2,
    relaysPerRegion: 1,
    presenterEdge: ORIGIN,
    edgeEnv: EDGE_ENV,
    controlPlaneEnv: CP_ENV,
  },
  scenarios: results,
};
writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);

const names = results.map((r) => r.name);
const num = (v: number | null) => v ?? Number.NaN;
writeFileSync(
  join(dir, 'gaps.png'),
  barChart('Longest media gap per viewer, by scenario', 'ms', names, [
    { label: 'concerned p95', values: results.map((r) => num(r.concerned.p95GapMs)), color: '#ffb84f' },
    { label: 'concerned max', values: results.map((r) => num(r.concerned.maxGapMs)), color: '#ef5b5b' },
    { label: 'bystanders max', values: results.map((r) => num(r.bystanders.maxGapMs)), color: '#4f8cff' },
  ]),
);
writeFileSync(
  join(dir, 'over-100ms.png'),
  barChart('Viewers with a gap over 100 ms', 'viewers', names, [
    { label: 'concerned', values: results.map((r) => r.concerned.over100Ms), color: '#ef5b5b' },
    { label: 'bystanders', values: results.map((r) => r.bystanders.over100Ms), color: '#4f8cff' },
  ]),
);
writeFileSync(
  join(dir, 'receiving-again.png'),
  barChart('Fault to receiving again (concerned viewers with a gap)', 'ms', names, [
    { label: 'p50', values: results.map((r) => num(r.concerned.receivingAgainMs.p50)), color: '#3ddc97' },
    { label: 'p95', values: results.map((r) => num(r.concerned.receivingAgainMs.p95)), color: '#ffb84f' },
    { label: 'max', values: results.map((r) => num(r.concerned.receivingAgainMs.max)), color: '#ef5b5b' },
  ]),
);

const ms = (v: number | null) => (v === null ? 'n/a' : String(v));
const group = (s: GapStats) =>
  s.viewers === 0
    ? '0 | n/a | n/a | n/a | 0'
    : `${s.viewers} | ${ms(s.p50GapMs)} | ${ms(s.p95GapMs)} | ${ms(s.maxGapMs)} | ${s.over100Ms}`;
const again = (s: GapStats) =>
  s.viewers === 0
    ? 'n/a'
    : `${ms(s.receivingAgainMs.p50)} / ${ms(s.receivingAgainMs.p95)} / ${ms(s.receivingAgainMs.max)}${s.notReceiving ? ` (${s.notReceiving} never)` : ''}`;
const rows = results.flatMap((r) =>
  r.error && r.phases.length === 0
    ? [`| ${r.name} | failed: ${r.error} | | | | | | | | | | | |`]
    : r.phases.map(
        (p) =>
          `| ${r.name} | ${p.phase} | ${group(p.concerned)} | ${again(p.concerned)} | ${group(p.bystanders)} | ${again(p.bystanders)} | ${p.benchEventLoopMaxMs} |`,
      ),
);
const notes = results.flatMap((r) => [
  ...r.phases
    .filter((p) => Object.keys(p.notes).length > 0)
    .map((p) => `- ${r.name} / ${p.phase}: ${JSON.stringify(p.notes)}`),
  ...(Object.keys(r.edgeReportedErrors).length
    ? [`- ${r.name}: errors the edges notified participants of: ${JSON.stringify(r.edgeReportedErrors)}`]
    : []),
]);
const markdown = `# Faults benchmark, ${report.date}

Command: \`node loadtest/faults-bench.ts --viewers ${VIEWERS}${args.scenarios === SCENARIOS.map((s) => s.name).join(',') ? '' : ` --scenarios ${args.scenarios}`}\`

Per scenario a fresh local mesh: regions eu and us, 2 edges and a relay each, the control plane, nats-server and redis-server, all on this machine (2 cores shared with the viewers). The recorded presenter (VP8 simulcast 180p/360p/720p at 30 frames/s and Opus, 20 ms) publishes on ${ORIGIN}; ${VIEWERS} plain-RTP viewers consume camera and microphone, spread round robin over the edges (${
  results[0]
    ? Object.entries(results[0].placement)
        .map(([n, c]) => `${n} ${c}`)
        .join(', ')
    : ''
} in the first scenario). Viewers whose edge dies join again through the control plane as the SDK does (backoff 250 ms doubling to 5 s, \`join.resume\` with their participant id); viewers of a draining edge follow its \`migrate\` notice (RtpBot: join the placed edge with resume, consume there, switch on the first packet, leave the old edge). All viewers and the presenter run in this one Node process. Edge options: ${Object.entries(
  EDGE_ENV,
)
  .map(([k, v]) => `${k}=${v}`)
  .join(', ')}; everything else at its default.

A viewer's gap is the longest silence between two RTP packets of one of its streams (measured at arrival), in the window from the fault to the end of the phase. "Receiving again": from the fault until every stream of a viewer that had a gap over 100 ms received again. Bench event loop: the worst stall of the benchmark process itself in the window (gaps below it may be the measurement's own).

## Per viewer's worst phase

| scenario | concerned viewers | p50 ms | p95 ms | max ms | > 100 ms | bystanders | bystanders.maxGapMs | > 100 ms | settled noise ms |
|---|---|---|---|---|---|---|---|---|---|
${results.map((r) => `| ${r.name}${r.error ? ' (failed)' : ''} | ${r.concerned.viewers} | ${ms(r.concerned.p50GapMs)} | ${ms(r.concerned.p95GapMs)} | ${ms(r.concerned.maxGapMs)} | ${r.concerned.over100Ms} | ${r.bystanders.viewers} | ${ms(r.bystanders.maxGapMs)} | ${r.bystanders.over100Ms} | ${ms(r.settledMaxGapMs)} |`).join('\n')}

## By phase

| scenario | phase | concerned | p50 ms | p95 ms | max ms | > 100 ms | receiving again p50 / p95 / max ms | bystanders | p50 ms | p95 ms | max ms | > 100 ms | receiving again p50 / p95 / max ms | bench event loop max ms |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

## Scenarios

${results.map((r) => `- **${r.name}**: ${r.description}.${r.error ? ` Failed: ${r.error}` : ''}`).join('\n')}

## Notes (times in ms from the phase's start)

${notes.join('\n') || 'none'}

![gaps](gaps.png) ![over 100 ms](over-100ms.png) ![receiving again](receiving-again.png)
`;
writeFileSync(join(dir, 'report.md'), markdown);
console.log(markdown);
console.log(`report: ${dir}/report.md`);
process.exit(results.some((r) => r.error) ? 1 : 0);
