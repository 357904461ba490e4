import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barChart } from './charts.ts';
import type { Distribution } from './meeting-stats.ts';
import { recordText } from './meeting-stats.ts';
import type { LinkTraffic, WindowResult } from './meeting-window.ts';

/** One measured phase of the meeting benchmark. */
export interface MeetingPhase extends WindowResult {
  label: string;
  /** null: everyone receives everyone. */
  lastN: number | null;
  speakerSwitchMs?: Distribution & { missed: number };
}

export interface MeetingReportData {
  phases: MeetingPhase[];
  thumbnails: MeetingPhase | undefined;
  audio: { unmuted: number; label: string; dtx: boolean; window: WindowResult }[];
  joins: Record<string, unknown>;
  /** RTP bytes per second of the recording: each layer, low to high, and the audio. */
  rates: { layers: number[]; audio: number };
}

/** A phase's links together: bytes per video stream per second (audio taken out), and what a layer-aware link would carry. */
export function linkSummary(links: Record<string, LinkTraffic>, rates: MeetingReportData['rates']) {
  let bytes = 0;
  let streams = 0;
  let wanted = 0;
  const byTopLayer: Record<number, number> = {};
  for (const link of Object.values(links)) {
    bytes += Math.max(0, link.bytesPerSecond - link.unmutedMicrophones * rates.audio);
    streams += link.streams;
    for (const [layer, n] of Object.entries(link.byTopLayer)) {
      const top = Number(layer);
      byTopLayer[top] = (byTopLayer[top] ?? 0) + n;
      // Thumbnails want layer 0 of nearly every stream; a stage viewer the top one too.
      wanted += n * ((rates.layers[top] ?? 0) + (top > 0 ? (rates.layers[0] ?? 0) : 0));
    }
  }
  const allLayers = rates.layers.reduce((a, b) => a + b, 0);
  const perStream = streams > 0 ? bytes / streams : Number.NaN;
  return {
    videoBytesPerSecond: bytes,
    streams,
    byTopLayer,
    bytesPerStreamPerSecond: perStream,
    /** What one stream's all three layers are, per second. */
    allLayersBytesPerSecond: allLayers,
    /** Per stream, if links carried only the layers wanted. */
    wantedBytesPerStreamPerSecond: streams > 0 ? wanted / streams : Number.NaN,
    ofAllLayersPercent: (perStream / allLayers) * 100,
  };
}

const f = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const d = (x: Distribution | undefined, digits = 0) =>
  x ? `${f(x.p50, digits)} / ${f(x.p95, digits)}` : 'n/a';

/** Writes report.json, report.md and the charts into a new directory under `out`; prints the Markdown; returns the directory. */
export function writeMeetingReport(
  out: string,
  report: Record<string, unknown>,
  data: MeetingReportData,
): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(out, `meeting-${stamp}`);
  mkdirSync(dir, { recursive: true });
  const { phases, thumbnails, audio, joins, rates } = data;
  const windows = thumbnails ? [...phases, thumbnails] : phases;
  const summaries = windows.map((p) => ({ p, links: linkSummary(p.links, rates) }));
  writeFileSync(
    join(dir, 'report.json'),
    `${JSON.stringify({ ...report, linkSummaries: summaries.map((s) => ({ label: s.p.label, ...s.links })) }, null, 2)}\n`,
  );

  const labels = phases.map((p) => p.label);
  const perParticipant = (p: WindowResult, cpu: number) => cpu / p.participants;
  const charts: [string, Buffer][] = [
    [
      'cpu.png',
      barChart('CPU per participant (% of one core)', '% core', labels, [
        {
          label: 'SFU (edges)',
          values: phases.map((p) => perParticipant(p, p.sfuCpuPercent)),
          color: '#4f8cff',
        },
        { label: 'bots', values: phases.map((p) => perParticipant(p, p.botCpuPercent)), color: '#ffb84f' },
      ]),
    ],
    [
      'received.png',
      barChart('Video received per participant (mean)', 'streams / 100 kb/s', labels, [
        {
          label: 'video streams',
          values: phases.map((p) => p.videoStreamsPerParticipant.mean),
          color: '#3ddc97',
        },
        {
          label: 'video 100 kb/s',
          values: phases.map((p) => p.videoKbpsPerParticipant.mean / 100),
          color: '#4f8cff',
        },
      ]),
    ],
    [
      'links.png',
      barChart(
        'Link bytes per video stream per second',
        'kB/s',
        summaries.map((s) => s.p.label),
        [
          {
            label: 'carried',
            values: summaries.map((s) => s.links.bytesPerStreamPerSecond / 1000),
            color: '#ef5b5b',
          },
          {
            label: 'layers wanted',
            values: summaries.map((s) => s.links.wantedBytesPerStreamPerSecond / 1000),
            color: '#3ddc97',
          },
          {
            label: 'all layers',
            values: summaries.map((s) => s.links.allLayersBytesPerSecond / 1000),
            color: '#9aa3b5',
          },
        ],
      ),
    ],
    [
      'speaker-switch.png',
      barChart('Speaker switch, other region told', 'ms', labels, [
        { label: 'p50', values: phases.map((p) => p.speakerSwitchMs?.p50 ?? Number.NaN), color: '#3ddc97' },
        { label: 'p95', values: phases.map((p) => p.speakerSwitchMs?.p95 ?? Number.NaN), color: '#ef5b5b' },
      ]),
    ],
    [
      'audio.png',
      barChart(
        'Forwarding audio: U unmuted',
        'k packets/s / % core',
        audio.map((a) => `U = ${a.label}`),
        [
          {
            label: 'audio k packets/s delivered',
            values: audio.map((a) => a.window.audioPacketsPerSecond / 1000),
            color: '#4f8cff',
          },
          { label: 'SFU CPU % core', values: audio.map((a) => a.window.sfuCpuPercent), color: '#ef5b5b' },
          { label: 'bot CPU % core', values: audio.map((a) => a.window.botCpuPercent), color: '#ffb84f' },
        ],
      ),
    ],
  ];
  for (const [name, png] of charts) writeFileSync(join(dir, name), png);

  const row = (p: MeetingPhase) =>
    `| ${p.label} | ${p.participants} | ${f(p.sfuCpuPercent)} | ${f(p.sfuCpuPercent / p.participants, 2)} | ${f(p.botCpuPercent)} | ${f(p.videoStreamsPerParticipant.mean, 1)} | ${f(p.videoKbpsPerParticipant.mean)} / ${f(p.videoKbpsPerParticipant.p95)} | ${f(p.overallLossPercent, 3)} / ${f(p.lossPercent.max, 3)} | ${p.speakerSwitchMs ? `${d(p.speakerSwitchMs)} (${p.speakerSwitchMs.count}, missed ${p.speakerSwitchMs.missed})` : 'n/a'} | ${f(p.keyframeRequestsPerSecond.max)} / ${f(p.keyframeRequestsPerSecond.p95)} |`;
  const joinRows = Object.entries(joins).map(([label, j]) => {
    const join = j as {
      joined: number;
      failures: string[];
      everyoneReceivesEveryone: boolean;
      joinToFirstVideoMs: Distribution;
      keyframeRequestsPerSecond: Distribution;
      placement: Record<string, number>;
    };
    return `| ${label} | ${join.joined} (${join.failures.length} failed) | ${join.everyoneReceivesEveryone ? 'yes' : 'NO'} | ${d(join.joinToFirstVideoMs)} | ${f(join.keyframeRequestsPerSecond.max)} / ${f(join.keyframeRequestsPerSecond.p95)} | ${recordText(join.placement)} |`;
  });
  const linkRows = summaries.map(
    ({ p, links }) =>
      `| ${p.label} | ${f(links.videoBytesPerSecond / 1000)} | ${f(links.streams, 1)} | ${recordText(links.byTopLayer, 1)} | ${f(links.bytesPerStreamPerSecond / 1000, 1)} | ${f(links.wantedBytesPerStreamPerSecond / 1000, 1)} | ${f(links.allLayersBytesPerSecond / 1000, 1)} | ${f(links.ofAllLayersPercent)} % |`,
  );
  const perLink = (p: MeetingPhase) =>
    Object.entries(p.links)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(
        ([key, l]) =>
          `| ${p.label} | ${key} | ${f(l.bytesPerSecond / 1000, 1)} | ${f(l.streams, 1)} | ${recordText(l.byTopLayer, 1)} | ${f(l.unmutedMicrophones, 1)} |`,
      );
  const markdown = `# Meeting benchmark, ${report.date}

Configuration: ${JSON.stringify(report.config)}. 2 regions x 2 edges (one worker each), every process and every bot on this machine (2 cores, shared).
Each participant publishes VP8 from ffmpeg in three simulcast layers (${rates.layers.map((r) => f((r * 8) / 1000)).join(' / ')} kb/s RTP) and Opus (${f((rates.audio * 8) / 1000)} kb/s), muted (producer paused, nothing sent) unless speaking or just spoken; it receives every other camera and microphone, the top speaker at layer 2 (stage) and the rest at layer 0 (thumbnails). Speakers switch by audio level every ${report.config && (report.config as { switchMs: number }).switchMs} ms, alternating regions.
CPU is % of one core over the window: SFU = the four edge processes with their mediasoup workers; bots = this process (every participant's sending and receiving).

## Phases

| phase | participants | SFU CPU % | SFU CPU % per participant | bot CPU % | video streams received per participant (mean) | video kb/s per participant mean / p95 | loss % overall / worst participant | speaker switch to other region p50 / p95 ms (switches x listeners) | key-frame requests per publisher-second max / p95 |
|---|---|---|---|---|---|---|---|---|---|
${windows.map(row).join('\n')}

Layer mix received (video packets by key-frame height): ${windows.map((p) => `${p.label}: ${recordText(p.layerMix)}`).join('; ')}.

## Joins

| room | joined | everyone receives everyone | join to first video p50 / p95 ms | key-frame requests per publisher-second during the join max / p95 | participants per edge |
|---|---|---|---|---|---|
${joinRows.join('\n')}

## Links: bytes per video stream against the layers wanted downstream

Per second, all links of the room together (audio of unmuted microphones taken out at the recording's rate); "layers wanted" is what a link carrying only the wanted layers (the top one wanted downstream, and layer 0 for thumbnails) would carry.

| phase | video kB/s over links | streams wanted (mean) | streams by top layer wanted | carried kB/s per stream | layers wanted kB/s per stream | all layers kB/s | carried / all layers |
|---|---|---|---|---|---|---|---|
${linkRows.join('\n')}

<details><summary>per link</summary>

| phase | link | kB/s | streams wanted | by top layer | unmuted microphones at origin |
|---|---|---|---|---|---|
${windows.flatMap(perLink).join('\n')}

</details>

## The cost of forwarding audio (U unmuted among ${audio[0]?.window.participants ?? 'n/a'}, silent, video as in the thumbnails window)

| U unmuted | audio packets/s delivered | per participant | SFU CPU % | bot CPU % | loss % overall |
|---|---|---|---|---|---|
${audio.map((a) => `| ${a.label} | ${f(a.window.audioPacketsPerSecond)} | ${f(a.window.audioPacketsPerSecondPerParticipant.mean)} | ${f(a.window.sfuCpuPercent)} | ${f(a.window.botCpuPercent)} | ${f(a.window.overallLossPercent, 3)} |`).join('\n')}

![CPU](cpu.png) ![received](received.png) ![links](links.png) ![speaker switch](speaker-switch.png) ![audio](audio.png)
`;
  writeFileSync(join(dir, 'report.md'), markdown);
  console.log(markdown);
  return dir;
}
