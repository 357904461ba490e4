// The faults the faults benchmark (loadtest/faults-bench.ts) injects into a settled lecture.
// Layout: regions eu and us, edges edge-<region>-1/2, relays relay-<region>-1; the presenter
// on edge-eu-1, so the us region takes the lecture through relay-us-1 once both its edges
// carry the room, and edge-eu-2 takes it straight from the origin.
import type { LocalMesh, NodeProcess } from '@kaskade/local-mesh';
import { operatorJson, startRedis } from '@kaskade/local-mesh';
import { joinEdge, LECTURE_SOURCES, type Presenter, type Viewer } from './audience.ts';
import { joinThroughControlPlane } from './join.ts';

export const ORIGIN = 'edge-eu-1';
const OTHER_REGION_EDGE = 'edge-us-2';
export const OTHER_REGION_RELAY = 'relay-us-1';
const OUTAGE_MS = 10_000;
/**
 * How long a phase watches after the fault (or the service's return): long enough for
 * what follows it, e.g. a node declared dead (KASKADE_NODE_TIMEOUT_MS, 6 s) and the tree
 * moving on the next resync (KASKADE_RESYNC_MS, 10 s).
 */
const AFTERMATH_MS = 20_000;

export interface ScenarioContext {
  mesh: LocalMesh;
  room: string;
  presenter: Presenter;
  viewers: Viewer[];
  /** The viewers the fault concerns (by the node they were on at the start). */
  concerned: Viewer[];
  /** Figures besides the gaps: times in ms from the phase's start, counts, yes/no. */
  notes: Record<string, unknown>;
  /** Waits at least minMs, then until every viewer of `who` receives again; at most maxMs in all. */
  settle(minMs: number, maxMs: number, who?: Viewer[]): Promise<void>;
  /** Milliseconds since the current phase (its window) started. */
  elapsed(): number;
  /** Other participants the scenario started; whatever is left is closed with the scenario. */
  extras: Map<string, { close(): Promise<void> }>;
}

export interface Phase {
  name: string;
  run(ctx: ScenarioContext): Promise<void>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Edges the viewers are spread over, round robin (default: every edge). */
  viewerEdges?: string[];
  /** Whether the fault concerns a viewer that sat on `home` when it started; the rest are bystanders. */
  concerns(home: string): boolean;
  phases: Phase[];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** kill -9 of the process and its workers (its own process group), as a machine dies. */
export async function crash(proc: NodeProcess): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  await Promise.race([exited, sleep(5000)]);
}

function node(mesh: LocalMesh, nodeId: string): NodeProcess {
  const found = [...mesh.edges, ...mesh.relays].find((n) => n.nodeId === nodeId);
  if (!found) throw new Error(`no node ${nodeId}`);
  return found;
}

interface DirectoryView {
  participants: { node: string }[];
  streams: { node: string }[];
  nodes: string[];
}

/**
 * Watches the control plane's directory view of the room until nothing in it is on
 * `dead` (the node declared dead and cleaned up), at most `maxMs`. Returns when that
 * happened (ms from the phase's start) or null, and what was left at the first look.
 */
async function watchDeclared(ctx: ScenarioContext, dead: string, maxMs: number) {
  const deadline = performance.now() + maxMs;
  let firstSeen: number | undefined;
  let last: { participants: number; streams: number; listed: boolean } | undefined;
  while (performance.now() < deadline) {
    const view = await operatorJson<DirectoryView>(
      ctx.mesh.controlPlane.operatorUrl,
      ctx.mesh.operatorToken,
      `/v1/rooms/${ctx.room}/participants`,
    ).catch(() => undefined); // the control plane may be down
    if (view) {
      last = {
        participants: view.participants.filter((p) => p.node === dead).length,
        streams: view.streams.filter((s) => s.node === dead).length,
        listed: view.nodes.includes(dead),
      };
      const left = last.participants + last.streams + (last.listed ? 1 : 0);
      firstSeen ??= left;
      if (left === 0) return { declaredAtMs: Math.round(ctx.elapsed()), entriesAtFirstLook: firstSeen };
    }
    await sleep(250);
  }
  return { declaredAtMs: null, entriesAtFirstLook: firstSeen ?? null, stillOnDeadNode: last ?? null };
}

/** Where a media node takes the room's streams from (its pipe links' far ends), sorted. */
export async function upstreamsOf(
  ctx: Pick<ScenarioContext, 'mesh' | 'room'>,
  nodeId: string,
): Promise<string[]> {
  const view = await operatorJson<{ links: { room: string; remoteNode: string; copies: number }[] }>(
    node(ctx.mesh, nodeId).operatorUrl,
    ctx.mesh.operatorToken,
    '/v1/node',
  ).catch(() => ({ links: [] }));
  return view.links
    .filter((l) => l.room === ctx.room && l.copies > 0)
    .map((l) => l.remoteNode)
    .sort();
}

/** Polls until `nodeId`'s upstreams satisfy `done` (at most maxMs); when, in ms from the phase's start, or null. */
export async function upstreamsBecome(
  ctx: Pick<ScenarioContext, 'mesh' | 'room' | 'elapsed'>,
  nodeId: string,
  done: (upstreams: string[]) => boolean,
  maxMs: number,
): Promise<number | null> {
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    if (done(await upstreamsOf(ctx, nodeId))) return Math.round(ctx.elapsed());
    await sleep(200);
  }
  return null;
}

/** How the concerned viewers came back: rejoins, close codes, placements on the dead node. */
function rejoinNotes(ctx: ScenarioContext, dead?: string) {
  const c = ctx.concerned;
  ctx.notes.rejoined = c.filter((v) => v.rejoins > 0).length;
  ctx.notes.resumed = c.filter((v) => v.resumed > 0).length;
  ctx.notes.migrated = c.filter((v) => v.migrations > 0).length;
  const fallbacks = ctx.viewers.reduce((n, v) => n + v.fallbacks, 0);
  if (fallbacks) ctx.notes.sameKeyFallbacks = fallbacks;
  ctx.notes.closeCodes = [...new Set(c.flatMap((v) => v.closeCodes))];
  if (dead) ctx.notes.placementsOnDeadNode = c.flatMap((v) => v.placements).filter((n) => n === dead).length;
  ctx.notes.placementsTotal = c.flatMap((v) => v.placements).length;
}

const everyone = () => true;

export const SCENARIOS: Scenario[] = [
  {
    name: 'tree-change',
    description: `${OTHER_REGION_EDGE} takes the room (a viewer joins there, so region us moves onto ${OTHER_REGION_RELAY}), then leaves again`,
    viewerEdges: ['edge-eu-1', 'edge-eu-2', 'edge-us-1'],
    concerns: (home) => home === 'edge-us-1',
    phases: [
      {
        name: 'join',
        async run(ctx) {
          ctx.notes.usOneTookFrom = await upstreamsOf(ctx, 'edge-us-1');
          const joiner = await joinEdge(ctx.mesh, OTHER_REGION_EDGE, 'tree-joiner', ctx.room);
          ctx.extras.set('joiner', joiner);
          for (const source of LECTURE_SOURCES)
            await joiner.consume({ producerId: ctx.presenter.producers[source] });
          ctx.notes.treeChangedAtMs = await upstreamsBecome(
            ctx,
            'edge-us-1',
            (up) => up.includes(OTHER_REGION_RELAY),
            30_000,
          );
          await ctx.settle(4000, 15_000);
          ctx.notes.usOneTakesFrom = await upstreamsOf(ctx, 'edge-us-1');
        },
      },
      {
        name: 'leave',
        async run(ctx) {
          await ctx.extras.get('joiner')?.close();
          ctx.extras.delete('joiner');
          ctx.notes.treeChangedAtMs = await upstreamsBecome(
            ctx,
            'edge-us-1',
            (up) => up.length > 0 && !up.includes(OTHER_REGION_RELAY),
            30_000,
          );
          await ctx.settle(4000, 15_000);
          ctx.notes.usOneTakesFrom = await upstreamsOf(ctx, 'edge-us-1');
        },
      },
    ],
  },
  {
    name: 'nats-down',
    description: `nats-server stopped for ${OUTAGE_MS / 1000} s, then started again (same port and users)`,
    concerns: () => false,
    phases: [
      {
        name: 'outage',
        async run(ctx) {
          await ctx.mesh.nats!.halt();
          await sleep(OUTAGE_MS);
          await ctx.mesh.nats!.restart();
          await ctx.settle(AFTERMATH_MS, 30_000);
        },
      },
    ],
  },
  {
    name: 'redis-down',
    description: `redis-server stopped for ${OUTAGE_MS / 1000} s and started again empty (no persistence: data lost)`,
    concerns: () => false,
    phases: [
      {
        name: 'outage',
        async run(ctx) {
          const { port, password } = ctx.mesh.redis!;
          await ctx.mesh.redis!.stop();
          await sleep(OUTAGE_MS);
          ctx.mesh.redis = await startRedis(port, password);
          await ctx.settle(AFTERMATH_MS, 30_000);
        },
      },
    ],
  },
  {
    name: 'relay-kill',
    description: `kill -9 of ${OTHER_REGION_RELAY} (carries region us), then the relay started again`,
    concerns: (home) => home.startsWith('edge-us-'),
    phases: [
      {
        name: 'kill',
        async run(ctx) {
          await crash(node(ctx.mesh, OTHER_REGION_RELAY));
          await ctx.settle(12_000, 30_000, ctx.concerned);
        },
      },
      {
        name: 'return',
        async run(ctx) {
          await ctx.mesh.respawn(OTHER_REGION_RELAY);
          ctx.notes.relayBackMs = Math.round(ctx.elapsed());
          await ctx.settle(12_000, 30_000);
        },
      },
    ],
  },
  {
    name: 'edge-kill',
    description: `kill -9 of ${OTHER_REGION_EDGE} (not the presenter's); its viewers join again through the control plane`,
    concerns: (home) => home === OTHER_REGION_EDGE,
    phases: [
      {
        name: 'kill',
        async run(ctx) {
          await crash(node(ctx.mesh, OTHER_REGION_EDGE));
          const declared = watchDeclared(ctx, OTHER_REGION_EDGE, 30_000);
          await ctx.settle(AFTERMATH_MS, 40_000, ctx.concerned);
          Object.assign(ctx.notes, await declared);
          rejoinNotes(ctx, OTHER_REGION_EDGE);
        },
      },
    ],
  },
  {
    name: 'origin-kill',
    description: `kill -9 of ${ORIGIN}, the presenter's edge: the presenter joins again through the control plane and publishes anew`,
    concerns: everyone,
    phases: [
      {
        name: 'kill',
        async run(ctx) {
          const before = ctx.presenter.producers.camera;
          await crash(node(ctx.mesh, ORIGIN));
          const declared = watchDeclared(ctx, ORIGIN, 30_000);
          await ctx.settle(AFTERMATH_MS, 40_000, ctx.concerned);
          Object.assign(ctx.notes, await declared);
          ctx.notes.presenterRejoined = ctx.presenter.producers.camera !== before;
          ctx.notes.presenterOn = ctx.presenter.nodeId;
          ctx.notes.presenterResumed = ctx.presenter.resumed > 0;
          ctx.notes.presenterPlacementsOnDeadNode = ctx.presenter.placements.filter(
            (n) => n === ORIGIN,
          ).length;
          rejoinNotes(ctx, ORIGIN);
        },
      },
    ],
  },
  {
    name: 'control-plane-kill',
    description:
      'kill -9 of the control plane, started again 5 s later on the same ports; then a join through it',
    concerns: () => false,
    phases: [
      {
        name: 'kill',
        async run(ctx) {
          await crash(ctx.mesh.controlPlane);
          await sleep(5000);
          await ctx.mesh.respawn('control-plane');
          ctx.notes.controlPlaneBackMs = Math.round(ctx.elapsed());
          for (let attempt = 0; attempt < 20; attempt++) {
            const placed = await joinThroughControlPlane(
              ctx.mesh.controlPlane.url,
              ctx.mesh.appJwtSecret,
              'probe',
              ctx.room,
              { region: 'us', grants: { publish: false, subscribe: true } },
            ).catch(() => undefined);
            if (placed) {
              ctx.notes.joinWorksAtMs = Math.round(ctx.elapsed());
              await placed.bot.close();
              break;
            }
            await sleep(500);
          }
          await ctx.settle(AFTERMATH_MS, 30_000);
        },
      },
    ],
  },
  {
    name: 'edge-kill-no-cp',
    description: `control plane stopped; kill -9 of ${OTHER_REGION_EDGE}; 5 s later the control plane starts again: is the dead node declared?`,
    concerns: (home) => home === OTHER_REGION_EDGE,
    phases: [
      {
        name: 'kill',
        async run(ctx) {
          await ctx.mesh.controlPlane.stop();
          await crash(node(ctx.mesh, OTHER_REGION_EDGE));
          await sleep(5000);
          await ctx.mesh.respawn('control-plane');
          ctx.notes.controlPlaneBackMs = Math.round(ctx.elapsed());
          const declared = watchDeclared(ctx, OTHER_REGION_EDGE, 30_000);
          await ctx.settle(AFTERMATH_MS, 40_000, ctx.concerned);
          Object.assign(ctx.notes, await declared);
          rejoinNotes(ctx, OTHER_REGION_EDGE);
        },
      },
    ],
  },
  {
    name: 'drain',
    description: `SIGTERM to ${OTHER_REGION_EDGE} (drain): each of its viewers gets a \`migrate\` notice and moves to the placed edge with its participant id (RtpBot), make-before-break`,
    concerns: (home) => home === OTHER_REGION_EDGE,
    phases: [
      {
        name: 'drain',
        async run(ctx) {
          const edge = node(ctx.mesh, OTHER_REGION_EDGE);
          const exited = new Promise<void>((resolve) => edge.child.once('exit', () => resolve()));
          edge.child.kill('SIGTERM');
          void exited.then(() => {
            ctx.notes.edgeExitedMs = Math.round(ctx.elapsed());
          });
          await ctx.settle(AFTERMATH_MS, 40_000, ctx.concerned);
          await Promise.race([exited, sleep(5000)]);
          rejoinNotes(ctx, OTHER_REGION_EDGE);
        },
      },
    ],
  },
];
