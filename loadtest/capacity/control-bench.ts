// The control benchmark, one command (a few minutes at most on 2 cores):
//   node loadtest/capacity/control-bench.ts [--viewers 40] [--seconds 10] [--scratch 2000,20000] [--out loadtest/reports]
// What the capacity model (loadtest/capacity-model.ts) takes from the bus and the
// directory, on a local mesh (2 regions x 2 edges + a relay each) with a nats-server and
// a redis-server of its own whose counters can be read: NATS messages (published, by
// kind, and delivered) and Redis commands per heartbeat (idle mesh), per join and per
// leave (viewers joining through the control plane and consuming a presenter's camera
// and microphone), per second of a speaker (speaker summaries), in a steady room; CPU
// per join; the cost of reading a room's directory entries by the room's size (scratch
// rooms); the cost of decoding one bus message. Writes report.json to <out>/control-<date>/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Directory } from '@kaskade/directory';
import {
  cpuSeconds,
  joinThroughControlPlane,
  type Placed,
  processTree,
  SPEAKING_DBOV,
} from '@kaskade/load-tools';
import { startLocalMesh } from '@kaskade/local-mesh';
import { NodeHeartbeat, RoomEvent } from '@kaskade/protocol';
import { pino } from 'pino';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  type NatsCounters,
  type RedisCounters,
  startCountedRedis,
  startMonitoredNats,
  Wiretap,
} from './bench/counters.ts';

const { values: args } = parseArgs({
  options: {
    viewers: { type: 'string', default: '40' },
    seconds: { type: 'string', default: '10' },
    scratch: { type: 'string', default: '2000,20000' },
    out: { type: 'string', default: 'loadtest/reports' },
  },
});
const VIEWERS = Number(args.viewers);
const SECONDS = Number(args.seconds);
const ROOM = 'capacity-bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const nats = await startMonitoredNats();
const redis = await startCountedRedis();
const tap = new Wiretap();
await tap.start(nats.url);
const devBus = { KASKADE_NATS_INSECURE: 'true', KASKADE_LOG_LEVEL: 'warn' };
const mesh = await startLocalMesh({
  natsUrl: nats.url,
  redisUrl: redis.url,
  edgesPerRegion: 2,
  relaysPerRegion: 1,
  edgeEnv: { ...devBus, KASKADE_ALLOW_PLAIN_RTP: 'true', KASKADE_NODE_CAPACITY: String(VIEWERS) },
  controlPlaneEnv: devBus,
});

interface Snapshot {
  at: number;
  nats: NatsCounters;
  tapTotal: number;
  tap: ReturnType<Wiretap['snapshot']>;
  redis: RedisCounters;
  cpu: Record<'controlPlane' | 'edges' | 'relays' | 'nats' | 'redis', number>;
}

async function snapshot(): Promise<Snapshot> {
  const tree = (pids: number[]) => cpuSeconds(pids.flatMap((p) => processTree(p)));
  return {
    at: performance.now(),
    nats: await nats.varz(),
    tapTotal: tap.total,
    tap: tap.snapshot(),
    redis: await redis.counters(),
    cpu: {
      controlPlane: tree([mesh.controlPlane.child.pid!]),
      edges: tree(mesh.edges.map((e) => e.child.pid!)),
      relays: tree(mesh.relays.map((r) => r.child.pid!)),
      nats: tree([nats.pid]),
      redis: tree([redis.pid]),
    },
  };
}

/** What happened between two snapshots: totals, and each divided by `per` (seconds, joins...). */
function between(a: Snapshot, b: Snapshot, per: number) {
  const published: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.tap)) {
    const n = v.messages - (a.tap[k]?.messages ?? 0);
    if (n > 0) published[k] = n / per;
  }
  const redisCommands: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.redis.byCommand)) {
    const n = v.calls - (a.redis.byCommand[k]?.calls ?? 0);
    if (n > 0) redisCommands[k] = n / per;
  }
  const tapMessages = b.tapTotal - a.tapTotal;
  return {
    seconds: (b.at - a.at) / 1000,
    natsPublished: (b.nats.inMsgs - a.nats.inMsgs) / per,
    /** Deliveries to the mesh's processes (the wiretap's own copies taken out). */
    natsDelivered: (b.nats.outMsgs - a.nats.outMsgs - tapMessages) / per,
    natsPublishedBytes: (b.nats.inBytes - a.nats.inBytes) / per,
    publishedByKind: published,
    redisCommands: (b.redis.commands - a.redis.commands) / per,
    redisOutputBytes: (b.redis.outputBytes - a.redis.outputBytes) / per,
    redisByCommand: redisCommands,
    cpuSeconds: Object.fromEntries(
      Object.entries(b.cpu).map(([k, v]) => [k, (v - a.cpu[k as keyof Snapshot['cpu']]) / per]),
    ),
  };
}

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  config: { viewers: VIEWERS, seconds: SECONDS, edges: mesh.edges.length, relays: mesh.relays.length },
};
const placed: Placed[] = [];
try {
  await sleep(3000); // every node heard, the first liveness sweeps done
  let s0 = await snapshot();
  await sleep(SECONDS * 1000);
  let s1 = await snapshot();
  report.idlePerSecond = between(s0, s1, (s1.at - s0.at) / 1000);

  const stage = await joinThroughControlPlane(mesh.controlPlane.url, mesh.appJwtSecret, 'presenter', ROOM, {
    region: 'eu',
  });
  placed.push(stage);
  stage.bot.setAudioLevel(-127);
  const mic = await stage.bot.publish('microphone', { packetsPerSecond: 50 });
  const cam = await stage.bot.publish('camera', { packetsPerSecond: 50 });
  await sleep(2000);

  // Joins in two halves: the second half joins a room twice as full (what grows with the room shows).
  const joinHalf = async (from: number, to: number) => {
    const a = await snapshot();
    for (let wave = from; wave < to; wave += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, to - wave) }, async (_, i) => {
          const p = await joinThroughControlPlane(
            mesh.controlPlane.url,
            mesh.appJwtSecret,
            `v${wave + i}`,
            ROOM,
            {
              region: mesh.regions[(wave + i) % mesh.regions.length],
              grants: { publish: false, subscribe: true },
            },
          );
          await p.bot.consume({ producerId: mic });
          await p.bot.consume({ producerId: cam });
          return p;
        }),
      );
      placed.push(...batch);
    }
    await sleep(1000); // the last joins' writes and events land
    const b = await snapshot();
    return between(a, b, to - from);
  };
  const half = Math.floor(VIEWERS / 2);
  report.perJoinFirstHalf = await joinHalf(0, half);
  report.perJoinSecondHalf = await joinHalf(half, VIEWERS);
  await sleep(2000);

  s0 = await snapshot();
  await sleep(SECONDS * 1000);
  s1 = await snapshot();
  report.steadyPerSecond = between(s0, s1, (s1.at - s0.at) / 1000);

  stage.bot.setAudioLevel(SPEAKING_DBOV);
  await sleep(2000);
  s0 = await snapshot();
  await sleep(SECONDS * 1000);
  s1 = await snapshot();
  report.speakingPerSecond = between(s0, s1, (s1.at - s0.at) / 1000);
  stage.bot.setAudioLevel(-127);

  s0 = await snapshot();
  const viewers = placed.splice(1);
  for (const v of viewers) await v.bot.close();
  await sleep(2000);
  s1 = await snapshot();
  report.perLeave = between(s0, s1, viewers.length);

  report.directoryRead = await directoryReadCost(args.scratch.split(',').map(Number));
  report.busDecodeMicroseconds = {
    heartbeat: decodeCost(NodeHeartbeat, tap.samples.get('heartbeat')),
    participantJoined: decodeCost(RoomEvent, tap.samples.get('room:participantJoined')),
  };
  report.messageBytes = Object.fromEntries(
    [...tap.counts].map(([k, v]) => [k, Math.round(v.bytes / Math.max(1, v.messages))]),
  );
} finally {
  for (const p of placed) await p.bot.close().catch(() => undefined);
  await tap.close();
  await mesh.stop();
  await redis.stop();
  await nats.stop();
}

/**
 * What reading a room of n participants from the directory costs (each edge does it on
 * every resync; placement reads only the nodes hash): a scratch room of n entries shaped
 * like the bench's own, read a few times; the reader's CPU, Redis's CPU, bytes from Redis.
 */
async function directoryReadCost(sizes: number[]) {
  const directory = new Directory(redis.url, pino({ level: 'silent' }));
  const results = [];
  try {
    for (const n of sizes) {
      const room = `capacity-scratch-${n}`;
      for (let i = 0; i < n; i += 500)
        await Promise.all(
          Array.from({ length: Math.min(500, n - i) }, (_, j) =>
            directory.addParticipant(room, {
              // As long as the ids and names the SDK's joins make (a 21-character id).
              id: `p${String(i + j).padStart(20, '0')}`,
              identity: `viewer-${String(i + j).padStart(8, '0')}`,
              name: `Viewer ${i + j}`,
              role: 'audience',
              node: 'edge-xx-1',
            }),
          ),
        );
      const reads = 5;
      const a = await redis.counters();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let r = 0; r < reads; r++) await directory.room(room);
      const wallMs = (performance.now() - t0) / reads;
      const cpu = process.cpuUsage(cpu0);
      const b = await redis.counters();
      results.push({
        participants: n,
        readerCpuMs: (cpu.user + cpu.system) / 1000 / reads,
        wallMs,
        redisCpuMs: ((b.cpuSeconds - a.cpuSeconds) * 1000) / reads,
        redisHgetallMicroseconds: (b.byCommand.hgetall!.usec - a.byCommand.hgetall!.usec) / reads,
        bytesOut: (b.outputBytes - a.outputBytes) / reads,
      });
    }
  } finally {
    await directory.close();
  }
  return results;
}

/** Microseconds to parse and validate one bus message, as every receiver does. */
function decodeCost(schema: TSchema, sample: string | undefined): number | null {
  if (!sample) return null;
  const check = Compile(schema);
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if (!check.Check(JSON.parse(sample))) return null;
  return ((performance.now() - t0) * 1000) / n;
}

const dir = join(args.out, `control-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
console.log(`report: ${dir}/report.json`);
