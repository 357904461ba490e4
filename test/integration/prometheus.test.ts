import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dashboards, resolveVariables } from '@kaskade/dashboards';
import { Directory } from '@kaskade/directory';
import {
  type LocalMesh,
  type Service,
  scrapeTargets,
  startLocalMesh,
  startPrometheus,
} from '@kaskade/local-mesh';
import { KaskadeApi } from '@kaskade/server-sdk';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { joinThroughControlPlane, type Placed } from '../helpers/mesh.ts';

// A real Prometheus scrapes a local mesh (two regions, two edges and a relay each) that
// carries media between RTP bots; every dashboard query and every alert rule runs
// through its HTTP API.
const rulesFile = fileURLToPath(new URL('../../deploy/prometheus/alerts.yml', import.meta.url));
let mesh: LocalMesh;
let prometheus: Service;
const bots: Placed[] = [];
const apiKey = 'a'.repeat(40);

beforeAll(async () => {
  mesh = await startLocalMesh({
    relaysPerRegion: 1,
    edgeEnv: {
      KASKADE_ALLOW_PLAIN_RTP: 'true',
      KASKADE_HEARTBEAT_MS: '500',
      KASKADE_STATS_INTERVAL_MS: '1000',
      KASKADE_NODE_CAPACITY: '3', // nine participants spread over all four edges
      KASKADE_LOG_LEVEL: 'warn',
    },
    controlPlaneEnv: {
      KASKADE_NODE_TIMEOUT_MS: '2000',
      KASKADE_LOG_LEVEL: 'warn',
      // The autoscaler decides twice a second and falls after 1 s (minutes in production).
      KASKADE_APP_API_KEY: apiKey,
      KASKADE_AUTOSCALE_INTERVAL_MS: '500',
      KASKADE_AUTOSCALE_STABILIZATION_MS: '1000',
      KASKADE_AUTOSCALE_SCALE_DOWN_STEP: '10',
      KASKADE_AUTOSCALE_NODE_STARTUP_MS: '2000',
    },
  });
  prometheus = await startPrometheus({
    targets: scrapeTargets(mesh),
    operatorToken: mesh.operatorToken,
    ruleFiles: [rulesFile],
    scrapeIntervalSeconds: 1,
  });
}, 60_000);
afterAll(async () => {
  for (const { bot } of bots) await bot.close().catch(() => undefined);
  await prometheus?.stop();
  await mesh?.stop();
});

interface QueryResult {
  status: string;
  error?: string;
  data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(expr: string): Promise<QueryResult> {
  const url = `${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`;
  return (await (await fetch(url)).json()) as QueryResult;
}

async function series(expr: string) {
  const answer = await query(expr);
  if (answer.status !== 'success') throw new Error(`${expr}: ${answer.error}`);
  return answer.data!.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

/** A presenter on an eu edge publishing audio and video, eight viewers over both regions. */
async function lecture(room: string, prefix = '') {
  const presenter = await joinThroughControlPlane(mesh, `${prefix}presenter`, room, 'eu');
  bots.push(presenter);
  const streams = [await presenter.bot.publish('microphone'), await presenter.bot.publish('camera')];
  for (let i = 0; i < 8; i++) {
    const viewer = await joinThroughControlPlane(mesh, `${prefix}viewer-${i}`, room, i % 2 ? 'us' : 'eu');
    bots.push(viewer);
    for (const producerId of streams) await viewer.bot.consume({ producerId });
  }
}

it('every dashboard panel and alert rule runs on a real Prometheus scraping a mesh that carries media', async () => {
  // Media: a presenter on an eu edge, viewers on every edge of both regions.
  await lecture('observed');
  expect(new Set(bots.map((b) => b.nodeId)).size).toBe(4);

  // Every process scraped, and media crossing from eu to us over pipes.
  await eventually(async () => {
    const up = await series('up{job=~"kaskade-.*"}');
    expect(up.map((s) => s.labels.node).sort()).toEqual(
      ['control-plane', ...mesh.edges.map((e) => e.nodeId), ...mesh.relays.map((r) => r.nodeId)].sort(),
    );
    expect(up.every((s) => s.value === 1)).toBe(true);
    const crossing = await series('sum by (src_region, dst_region) (rate(kaskade_pipe_bytes_total[5s]))');
    expect(
      crossing.find((s) => s.labels.src_region === 'eu' && s.labels.dst_region === 'us')?.value,
    ).toBeGreaterThan(0);
  }, 30_000);
  // Every query of every panel parses and runs; "must have data" panels return series
  // (rates need a few scrapes of the media: asked again each second until they have them).
  let queries = 0;
  await eventually(
    async () => {
      const problems: string[] = [];
      queries = 0;
      for (const dashboard of dashboards) {
        for (const panel of dashboard.rows.flatMap((r) => r.panels)) {
          expect(panel.title, dashboard.title).not.toBe('');
          expect(panel.unit, `${dashboard.title} / ${panel.title}: unit`).not.toBe('');
          if (panel.mustHaveData === false) expect(panel.emptyWhen, panel.title).toBeTruthy();
          for (const { expr } of panel.queries) {
            queries++;
            const answer = await query(resolveVariables(expr));
            if (answer.status !== 'success')
              problems.push(`${dashboard.title} / ${panel.title}: ${answer.error}`);
            else if (panel.mustHaveData !== false && answer.data!.result.length === 0)
              problems.push(`${dashboard.title} / ${panel.title}: no series for ${expr}`);
          }
        }
      }
      expect(problems).toEqual([]);
    },
    20_000,
    1000,
  );
  expect(queries).toBeGreaterThan(40);

  // The region and node variables list what runs.
  const labelValues = async (label: string) =>
    (
      (await (
        await fetch(
          `${prometheus.url}/api/v1/label/${label}/values?match[]=${encodeURIComponent('kaskade_process_start_time_seconds')}`,
        )
      ).json()) as { data: string[] }
    ).data;
  expect(await labelValues('region')).toEqual(expect.arrayContaining(['eu', 'us', 'global']));
  expect(await labelValues('node')).toEqual(expect.arrayContaining(mesh.edges.map((e) => e.nodeId)));

  // deploy/README.md documents every Kaskade metric Prometheus sees, and nothing else.
  const readme = readFileSync(fileURLToPath(new URL('../../deploy/README.md', import.meta.url)), 'utf8');
  const documented = new Set([...readme.matchAll(/^\| `(kaskade_[a-z_]+)` \|/gm)].map((m) => m[1]!));
  const names = (
    (await (await fetch(`${prometheus.url}/api/v1/label/__name__/values`)).json()) as { data: string[] }
  ).data.filter((n) => n.startsWith('kaskade_') && !/^kaskade_(process|nodejs)_/.test(n));
  const families = new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, '')));
  expect([...families].filter((n) => !documented.has(n))).toEqual([]);
  expect([...documented].filter((n) => !families.has(n))).toEqual([]);

  // Some panels, checked for what they should show now.
  const value = async (expr: string) => (await series(resolveVariables(expr)))[0]?.value ?? Number.NaN;
  expect(await value('sum(kaskade_participants)')).toBe(9);
  expect(await value('sum(rate(kaskade_worker_cpu_seconds_total[15s]))')).toBeGreaterThan(0);
  expect(await value('sum(kaskade_join_seconds_count{stage="first_media"})')).toBe(9);
  expect(await value('sum(kaskade_pipe_streams{direction="in",node="relay-us-1"})')).toBe(2);
  expect(
    await value('sum(kaskade_pipe_setup_seconds_count{upstream_region="eu",region="us"})'),
  ).toBeGreaterThan(0);
  expect(await value('sum(kaskade_placements_total{outcome=~"sticky|region"})')).toBe(9);
  expect(await value('sum(kaskade_join_requests_total{result="ok"})')).toBe(9);
  expect(await value('min(kaskade_nats_connected)')).toBe(1);
  expect(await value('min(kaskade_redis_connected)')).toBe(1);

  // Every rule of the rules file is loaded and evaluated without error. None fires, except
  // that the edges placement filled (capacity 3) are overloaded, and exactly those.
  const ruleCount = (readFileSync(rulesFile, 'utf8').match(/^\s+- alert: /gm) ?? []).length;
  type Rule = { name: string; query: string; health: string; lastError?: string; state: string };
  const rules = async () =>
    (
      (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
        data: { groups: { rules: Rule[] }[] };
      }
    ).data.groups.flatMap((g) => g.rules);
  await eventually(async () => {
    const loaded = await rules();
    expect(loaded).toHaveLength(ruleCount);
    for (const rule of loaded) expect(rule.health, `${rule.name}: ${rule.lastError}`).toBe('ok');
  });
  const full = (await series('kaskade_participants >= 3')).map((s) => s.labels.node).sort();
  expect(full.length).toBeGreaterThan(0);
  for (const rule of await rules()) {
    expect((await query(rule.query)).status, rule.name).toBe('success');
    if (rule.name !== 'KaskadeNodeOverloaded') expect(rule.state, rule.name).toBe('inactive');
    else expect((await series(rule.query)).map((s) => s.labels.node).sort()).toEqual(full);
  }

  // Cardinality across the mesh: everyone leaves, the same lecture runs in another room
  // with other participants, and no process has more series than before. (Series by
  // region pair are left out: which edge becomes the origin may change, and with it which
  // pairs a node has carried; they are bounded by the number of regions squared.)
  const seriesPerNode = async () =>
    Object.fromEntries(
      (
        await series(
          'count by (node) ({__name__=~"kaskade_.+",__name__!~"kaskade_(process|nodejs)_.+",src_region="",dst_region="",upstream_region="",remote_region=""})',
        )
      ).map((s) => [s.labels.node, s.value]),
    );
  // No label anywhere names a room, a participant or a media object.
  const labelNames = ((await (await fetch(`${prometheus.url}/api/v1/labels`)).json()) as { data: string[] })
    .data;
  expect(
    labelNames.filter((l) => /room|participant|identity|producer|consumer|transport_id/.test(l)),
  ).toEqual([]);
  const first = await seriesPerNode();
  for (const { bot } of bots.splice(0)) await bot.close();
  await eventually(async () => expect(await value('sum(kaskade_participants)')).toBe(0));
  await lecture('observed-again', 'again-');
  await eventually(async () => expect(await seriesPerNode()).toEqual(first), 15_000);

  // A relay dies: it is reported down and declared dead, and the alerts say so.
  const relay = mesh.relays.find((r) => r.region === 'us')!;
  relay.child.kill('SIGKILL');
  await eventually(async () => {
    expect((await series('up{job="kaskade-relay"} == 0')).map((s) => s.labels.node)).toEqual([relay.nodeId]);
    const firing = (await rules()).filter((r) => r.state === 'firing').map((r) => r.name);
    expect(firing).toContain('KaskadeNodeStoppedReporting');
  }, 20_000);
}, 120_000);

it('kaskade_desired_nodes follows the load the bots make, and rises ahead of a reservation made through the API', async () => {
  const desired = async (region: string, kind = 'edge') =>
    (await series(`max(kaskade_desired_nodes{region="${region}",kind="${kind}"})`))[0]?.value ?? Number.NaN;
  const euEdges = mesh.edges.filter((e) => e.region === 'eu').length;
  // Quiet first: everyone leaves and, after the stabilization window, the desired count
  // falls to what is left (the minimum, or the edges still holding an emptied room).
  for (const { bot } of bots.splice(0)) await bot.close();
  const before = await eventually(async () => {
    const quiet = await desired('eu');
    expect(quiet).toBeLessThanOrEqual(euEdges);
    return quiet;
  }, 15_000);
  // The bots come back: five participants on two eu edges that take three each is 1.7
  // edges of load, more than two edges at the target load (0.6) can carry.
  await lecture('scaled', 'scaled-');
  await eventually(async () => {
    expect(await desired('eu')).toBeGreaterThan(Math.max(before, euEdges));
  }, 15_000);
  const loaded = await desired('eu');

  // A lecture announced through the API, five minutes ahead (the lead time is 15): the
  // desired eu edges rise now, before it starts: 60 participants at 3 per edge and 0.6 is 34.
  const api = new KaskadeApi({ url: mesh.controlPlane.url, apiKey });
  const startsAt = Date.now() + 5 * 60_000;
  const unauthorized = await fetch(`${mesh.controlPlane.url}/v1/capacity`);
  expect([unauthorized.status, (await unauthorized.json()).code]).toEqual([401, 'UNAUTHORIZED']);
  await api.reserveCapacity('lecture-ahead', {
    startsAt: new Date(startsAt).toISOString(),
    expectedParticipants: 60,
    regions: { eu: 1 },
  });
  await eventually(async () => {
    expect(await desired('eu')).toBe(34);
    expect((await series('max(kaskade_capacity_reservations)'))[0]?.value).toBe(1);
  }, 10_000);
  expect(Date.now()).toBeLessThan(startsAt);
  // In Redis, for every replica: until an hour after its end (by default 4 h after its start).
  const directory = new Directory(mesh.redisUrl, pino({ level: 'silent' }));
  const reservationKeys = async () =>
    (await directory.keys()).filter((k) => k.part === 'reservation' || k.part === 'reservations');
  const keys = await reservationKeys();
  expect(keys.map((k) => k.part).sort()).toEqual(['reservation', 'reservations']);
  for (const { ttlSeconds } of keys) {
    expect(ttlSeconds).toBeGreaterThan(5 * 3600);
    expect(ttlSeconds).toBeLessThanOrEqual(5 * 3600 + 5 * 60);
  }
  const report = await api.capacity();
  const eu = report.regions.find((r) => r.region === 'eu' && r.kind === 'edge')!;
  expect(eu.desired).toBe(34);
  expect(eu.reasons.join('\n')).toMatch(
    /reservation lecture-ahead \(lecture, starts in \d+ s\): 60 participants at 3 per edge: 34 edges/,
  );
  expect(report.reservations.map((r) => r.id)).toEqual(['lecture-ahead']);
  // The us edges are not part of it.
  expect(await desired('us')).toBeLessThan(34);
  // Called off: the desired count returns to what the load wants, after the window.
  await api.cancelReservation('lecture-ahead');
  expect((await reservationKeys()).map((k) => k.part)).toEqual([]);
  await directory.close();
  await eventually(async () => {
    const after = await desired('eu');
    expect(after).toBeLessThanOrEqual(loaded);
    expect(after).toBeGreaterThan(euEdges);
    expect((await series('max(kaskade_capacity_reservations)'))[0]?.value).toBe(0);
  }, 10_000);
}, 60_000);
