// The meeting benchmark, one command:
//   node loadtest/meeting-bench.ts [--participants 100] [--seconds 20] [--baseline-n 24] [--out DIR]
// A meeting where anyone may speak, over 2 regions x 2 edges: every participant publishes
// the recorded VP8 simulcast + Opus (muted but for a rotating few), receives everyone's
// camera (stage: the top speaker at the high layer, thumbnails at layer 0) with last-N;
// a baseline where everyone receives everyone at a size this machine sustains, and
// last-N at that size; a thumbnails-only window (link bytes per stream); and the cost of
// forwarding audio with U unmuted. Prints the figures; writes report.json, report.md and
// PNG charts to --out.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  distribution,
  interleaveRegions,
  MeetingParticipant,
  type MeetingPhase,
  measureWindow,
  prepareRecordedMedia,
  recordedByteRates,
  SpeakerRotation,
  switchLatencies,
  type WindowResult,
  writeMeetingReport,
} from '@kaskade/load-tools';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';

const { values: args } = parseArgs({
  options: {
    participants: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    'baseline-n': { type: 'string', default: '24' },
    'last-n': { type: 'string', default: '9' },
    'switch-ms': { type: 'string', default: '3000' },
    /** Recent speakers who stay unmuted (silent) after their turn. */
    unmuted: { type: 'string', default: '3' },
    'audio-unmuted': { type: 'string', default: '1,5,20,all' },
    'audio-seconds': { type: 'string', default: '8' },
    /** The audio windows with silent microphones sending every frame (off), as Opus DTX does (on), or both. */
    'audio-dtx': { type: 'string', default: 'both' },
    /** Where the audio windows run: the baseline's room (under last-N; U = all stays within this machine) or the meeting's. */
    'audio-in': { type: 'string', default: 'baseline' },
    /** Which phases: baseline (and last-N at its size), meeting (and the thumbnails and audio windows). */
    phases: { type: 'string', default: 'baseline,meeting' },
    out: { type: 'string', default: 'loadtest/reports' },
  },
});
const N = Number(args.participants);
const SECONDS = Number(args.seconds);
const BASELINE_N = Math.min(N, Number(args['baseline-n']));
const LAST_N = Number(args['last-n']);
const SWITCH_MS = Number(args['switch-ms']);
const UNMUTED = Number(args.unmuted);
const AUDIO_SECONDS = Number(args['audio-seconds']);
const phases = new Set(args.phases.split(','));
const REGIONS = { eu: '127.0.1', us: '127.0.2' };
const EDGES_PER_REGION = 2;
/** Joins per wave, a wave every 500 ms. */
const WAVE = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const media = prepareRecordedMedia(join(tmpdir(), 'kaskade-recorded-media'), 10);
const rates = recordedByteRates(media);

/** A mesh whose edges take `participants` between them (placement spreads a room over all four). */
async function withMesh<T>(participants: number, run: (mesh: LocalMesh) => Promise<T>): Promise<T> {
  const perEdge = Math.ceil(participants / (2 * EDGES_PER_REGION)) + 1;
  const mesh = await startLocalMesh({
    regions: REGIONS,
    edgesPerRegion: EDGES_PER_REGION,
    edgeEnv: {
      KASKADE_ALLOW_PLAIN_RTP: 'true',
      KASKADE_LOG_LEVEL: 'warn',
      KASKADE_NODE_CAPACITY: String(perEdge),
      KASKADE_RESYNC_MS: '2000',
      // Every participant receives every stream (last-N pauses them at the edge): budgets to match.
      KASKADE_WORKER_MAX_CONSUMERS: String(100_000),
      KASKADE_MAX_CONSUMERS_PER_PARTICIPANT: String(Math.max(300, 2 * participants)),
      KASKADE_CONSUME_BURST: String(Math.max(300, 2 * participants)),
      KASKADE_WS_REQUEST_BURST: String(Math.max(1000, 8 * participants)),
    },
    controlPlaneEnv: { KASKADE_LOG_LEVEL: 'warn' },
  });
  try {
    return await run(mesh);
  } finally {
    await mesh.stop();
  }
}

/** Joins `n` participants in waves (regions alternating), last-N set on join if given; measures the join. */
async function joinMeeting(mesh: LocalMesh, room: string, n: number, lastN: number | undefined) {
  const participants: MeetingParticipant[] = [];
  const failures: string[] = [];
  const keyframeSamples: number[] = [];
  let last = new Map<MeetingParticipant, number>();
  const sampler = setInterval(() => {
    const now = new Map(participants.map((p) => [p, p.sender.keyframeRequests]));
    for (const [p, k] of now) keyframeSamples.push(k - (last.get(p) ?? 0));
    last = now;
  }, 1000);
  const regions = Object.keys(REGIONS);
  for (let wave = 0; wave * WAVE < n; wave++) {
    const started = performance.now();
    const joined = await Promise.allSettled(
      Array.from({ length: Math.min(WAVE, n - wave * WAVE) }, async (_, i) => {
        const index = wave * WAVE + i;
        const p = await MeetingParticipant.join(
          mesh,
          room,
          `p${index}`,
          regions[index % regions.length]!,
          media,
        );
        if (lastN !== undefined) await p.setLastN(lastN);
        return p;
      }),
    );
    for (const r of joined)
      if (r.status === 'fulfilled') participants.push(r.value);
      else failures.push(String(r.reason));
    await sleep(Math.max(0, 500 - (performance.now() - started)));
  }
  // Every participant consumes everyone else's camera and microphone: those it was told
  // of, and after a while those it missed (counted), as an application listing the room would.
  let missed = 0;
  const everyone = async () => {
    for (const deadline = performance.now() + 120_000; performance.now() < deadline; ) {
      await Promise.all(participants.map((p) => p.settled()));
      if (participants.every((p) => p.subscriptions.size >= 2 * (participants.length - 1))) return true;
      await sleep(2000);
      for (const p of participants)
        for (const other of participants) for (const s of other.publications()) if (p.receive(s)) missed++;
    }
    return false;
  };
  const complete = await everyone();
  await sleep(3000); // layers and last-N settle
  clearInterval(sampler);
  // From starting to join to the first video packet, for those who joined a room already publishing.
  const firstMedia = participants.slice(WAVE).map((p) => {
    const firsts = [...p.subscriptions.values()]
      .filter((s) => s.info.source === 'camera')
      .map((s) => s.received.firstPacketAt ?? Number.NaN)
      .filter(Number.isFinite);
    return firsts.length > 0 ? Math.min(...firsts) - p.joinStarted : Number.NaN;
  });
  const placement: Record<string, number> = {};
  for (const p of participants) placement[p.nodeId] = (placement[p.nodeId] ?? 0) + 1;
  return {
    participants,
    join: {
      joined: participants.length,
      failures,
      everyoneReceivesEveryone: complete,
      /** Streams a participant was not told of (announcement lost), taken from the benchmark's list. */
      missedAnnouncements: missed,
      subscriptionsPerParticipant: distribution(participants.map((p) => p.subscriptions.size)),
      refused: participants.flatMap((p) => p.failures).slice(0, 20),
      joinToFirstVideoMs: distribution(firstMedia),
      keyframeRequestsPerSecond: distribution(keyframeSamples),
      placement,
    },
  };
}

/** A measured window while speakers rotate: with the speaker-switch latency across regions. */
async function speakingWindow(
  label: string,
  mesh: LocalMesh,
  room: string,
  participants: MeetingParticipant[],
  lastN: number | null,
): Promise<MeetingPhase> {
  const rotation = new SpeakerRotation(participants, { periodMs: SWITCH_MS, unmuted: UNMUTED });
  rotation.start();
  await sleep(SWITCH_MS + 1500); // the first speaker is on the stage
  const from = performance.now();
  const window = await measureWindow(mesh, room, participants, SECONDS);
  await rotation.stop();
  const switches = rotation.switches.filter((s) => s.at >= from);
  const { latenciesMs, missed } = switchLatencies(
    switches,
    participants.map((p) => ({ region: p.region, news: p.speakerNews })),
  );
  console.log(
    `${label}: SFU ${window.sfuCpuPercent.toFixed(0)} %, bots ${window.botCpuPercent.toFixed(0)} %`,
  );
  return { label, lastN, ...window, speakerSwitchMs: { ...distribution(latenciesMs), missed } };
}

const audio: { unmuted: number; label: string; dtx: boolean; window: WindowResult }[] = [];
const dtxModes = { off: [false], on: [true], both: [false, true] }[args['audio-dtx']];
if (!dtxModes) throw new Error('--audio-dtx is one of off, on, both');

/** The cost of audio: U unmuted (silent, so the speaker order and the video stay put), for each U asked. */
async function audioSweep(mesh: LocalMesh, room: string, participants: MeetingParticipant[]): Promise<void> {
  const order = interleaveRegions(participants);
  for (const dtx of dtxModes!) {
    for (const p of participants) p.sender.audioDtx = dtx;
    for (const u of args['audio-unmuted'].split(',')) {
      const unmuted = u === 'all' ? participants.length : Math.min(Number(u), participants.length);
      await Promise.all(order.map((p, i) => p.setMuted(i >= unmuted)));
      await sleep(2000);
      const window = await measureWindow(mesh, room, participants, AUDIO_SECONDS);
      console.log(
        `audio, ${unmuted} unmuted${dtx ? ' (DTX)' : ''}: ${window.audioPacketsPerSecond.toFixed(0)} packets/s, SFU ${window.sfuCpuPercent.toFixed(0)} %`,
      );
      audio.push({ unmuted, label: dtx ? `${u} (DTX)` : u, dtx, window });
    }
  }
  for (const p of participants) p.sender.audioDtx = false;
}

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  config: {
    participants: N,
    baselineN: BASELINE_N,
    lastN: LAST_N,
    seconds: SECONDS,
    switchMs: SWITCH_MS,
    unmuted: UNMUTED,
  },
  recording: { layerBytesPerSecond: rates.layers, audioBytesPerSecond: rates.audio },
};
const phaseResults: MeetingPhase[] = [];
const joins: Record<string, unknown> = {};

if (phases.has('baseline')) {
  await withMesh(BASELINE_N, async (mesh) => {
    const room = 'meeting-baseline';
    const { participants, join } = await joinMeeting(mesh, room, BASELINE_N, undefined);
    joins[`everyone receives everyone, ${BASELINE_N}`] = join;
    try {
      phaseResults.push(await speakingWindow(`baseline ${BASELINE_N}`, mesh, room, participants, null));
      await Promise.all(participants.map((p) => p.setLastN(LAST_N)));
      await sleep(3000);
      phaseResults.push(
        await speakingWindow(`last-N ${LAST_N}, ${BASELINE_N}`, mesh, room, participants, LAST_N),
      );
      if (args['audio-in'] === 'baseline') {
        await Promise.all(participants.map((p) => p.setMuted(true)));
        for (const p of participants) p.showOnStage(undefined);
        await audioSweep(mesh, room, participants);
      }
    } finally {
      await Promise.all(participants.map((p) => p.close()));
    }
  });
}

let thumbnails: MeetingPhase | undefined;
if (phases.has('meeting')) {
  await withMesh(N, async (mesh) => {
    const room = 'meeting';
    const { participants, join } = await joinMeeting(mesh, room, N, LAST_N);
    joins[`last-N ${LAST_N}, ${N}`] = join;
    try {
      phaseResults.push(await speakingWindow(`last-N ${LAST_N}, ${N}`, mesh, room, participants, LAST_N));
      // Everyone muted, every tile a thumbnail: what a link carries per stream nobody wants large.
      await Promise.all(participants.map((p) => p.setMuted(true)));
      for (const p of participants) p.showOnStage(undefined);
      await sleep(3000);
      const window = await measureWindow(mesh, room, participants, Math.min(SECONDS, 10));
      thumbnails = { label: 'thumbnails only', lastN: LAST_N, ...window };
      if (args['audio-in'] === 'meeting') await audioSweep(mesh, room, participants);
    } finally {
      await Promise.all(participants.map((p) => p.close()));
    }
  });
}

Object.assign(report, { joins, phases: phaseResults, thumbnails, audio });
const dir = writeMeetingReport(args.out, report, { phases: phaseResults, thumbnails, audio, joins, rates });
console.log(`report: ${dir}/report.md`);
