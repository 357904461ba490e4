import { participantsOf } from './conference.ts';
import { FIGURES, MEASURED_ON } from './figures.ts';
import type { CapacityResult } from './model.ts';
import { OPTION_ENV } from './options.ts';

/** Numbers as the tables print them: three significant digits, thousands separated. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '-';
  if (n === 0) return '0';
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : Math.abs(n) >= 1 ? 2 : 3;
  return Number(n.toFixed(digits)).toLocaleString('en-US');
}

export function bits(bps: number): string {
  const units: [number, string][] = [
    [1e9, 'Gb/s'],
    [1e6, 'Mb/s'],
    [1e3, 'kb/s'],
  ];
  for (const [scale, unit] of units) if (bps >= scale) return `${num(bps / scale)} ${unit}`;
  return `${num(bps)} b/s`;
}

const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

const perRegion = (record: Record<string, number>, show: (n: number) => string) =>
  Object.entries(record)
    .map(([r, n]) => `${r} ${show(n)}`)
    .join(', ');

/** The rows every report shows of a result: nodes, bytes, bus, directory, control plane. */
export function resultRows(r: CapacityResult): [string, string][] {
  const { media: m, control: k, conference: c } = r;
  // Regions alike are named once: "1.33 Mb/s in each of 9 (eu-central, ...)" reads better than 10 entries.
  const regions = (rec: Record<string, number>, show: (n: number) => string) => {
    const groups = new Map<string, string[]>();
    for (const [region, n] of Object.entries(rec))
      groups.set(show(n), [...(groups.get(show(n)) ?? []), region]);
    if (groups.size === 1) return `${[...groups.keys()][0]} in each`;
    return [...groups]
      .map(([value, names]) =>
        names.length > 3 ? `${value} in each of ${names.length} others` : `${names.join(', ')} ${value}`,
      )
      .join('; ');
  };
  return [
    ['participants', `${num(participantsOf(c))} over ${Object.keys(c.regions).length} regions`],
    ['participants per edge', `${num(m.edge.perEdge)} (bound by ${m.edge.boundBy})`],
    ['edges per region', regions(m.edgesByRegion, num)],
    ['relays per region (carrying the room)', regions(m.relaysByRegion, num)],
    [
      'per participant',
      `${bits(m.edge.perParticipant.bps)}, ${num(m.edge.perParticipant.cores * 1000)} millicores, ${num(m.edge.perParticipant.consumers)} consumers`,
    ],
    ['bytes into each region', regions(m.regionInBps, bits)],
    ['bytes out of each region', regions(m.regionOutBps, bits)],
    ['relay egress (its region)', regions(m.relayOutBps, bits)],
    [
      'relay fan-out (edges) / most one relay feeds',
      `${num(Math.max(0, ...Object.values(m.relayFanout)))} / ${num(m.relayFanoutMax)}`,
    ],
    [
      'tree depth (SFUs) / origin pipe copies',
      `${Math.max(...m.trees.map((t) => t.depth))} / ${Math.max(0, ...m.trees.map((t) => t.originFanout))}`,
    ],
    [
      'NATS heartbeats published / delivered',
      `${num(k.nats.heartbeatsPublished)}/s / ${num(k.nats.heartbeatsDelivered)}/s`,
    ],
    [
      'NATS room events at the join peak (published / delivered)',
      `${num(k.nats.roomEventsPublished)}/s / ${num(k.nats.roomEventsDelivered)}/s`,
    ],
    [
      'NATS speaker summaries (published / delivered)',
      `${num(k.nats.speakerSummariesPublished)}/s / ${num(k.nats.speakerSummariesDelivered)}/s`,
    ],
    [
      'Redis commands (heartbeats, sweeps, joins, resync)',
      `${num(k.redis.opsPerSecond)}/s (${num(k.redis.heartbeatOps)}, ${num(k.redis.sweepOps)}, ${num(k.redis.joinOps)}, ${num(k.redis.resyncOps)})`,
    ],
    ['entries the resyncs read back', `${num(k.redis.resyncEntriesPerSecond)}/s`],
    ['Redis CPU (one core) / egress', `${num(k.redis.cpuShare * 100)} % / ${bits(k.redis.outBps)}`],
    [
      'control plane: CPU per join / cores over the ramp',
      `${num(k.controlPlane.joinMs)} ms / ${num(k.controlPlane.cores)} (${k.controlPlane.replicasNeeded} replicas of ${c.controlPlaneCores} cores)`,
    ],
    [
      'edge main thread at the ramp end (bus, joins, consumes, resync, signaling)',
      `${num(k.edgeMainThreadShare * 100)} % (${Object.values(k.edgeMainThread)
        .map((v) => num(v * 100))
        .join(', ')})`,
    ],
    [
      'largest audience of this shape that fits',
      `${num(r.largestFitting)} (first to break: ${r.firstLimit.name})`,
    ],
  ];
}

export function resultTable(r: CapacityResult): string {
  return table(['', 'value'], resultRows(r));
}

export function limitsTable(r: CapacityResult): string {
  return table(
    ['limit', 'used / limit', 'ratio', 'what it is', 'remedy'],
    r.limits.map((l) => [
      l.ratio > 1 ? `**${l.name}**` : l.name,
      l.unit.startsWith('bits/s') ? `${bits(l.used)} / ${bits(l.limit)}` : `${num(l.used)} / ${num(l.limit)}`,
      num(l.ratio),
      l.unit,
      l.remedy,
    ]),
  );
}

/** The figures and options behind a result, measured or assumed. */
export function figuresTable(): string {
  return table(
    ['figure', 'value', 'basis', 'source'],
    Object.entries(FIGURES).map(([k, f]) => [
      k,
      `${Array.isArray(f.value) ? f.value.map(num).join(' / ') : num(f.value)} ${f.unit}`,
      f.basis,
      f.source,
    ]),
  );
}

export function markdownReport(name: string, r: CapacityResult): string {
  const c = r.conference;
  const options = Object.entries(c.options)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${OPTION_ENV[k as keyof typeof OPTION_ENV]}=${v}`)
    .join(', ');
  return `# Capacity model: ${name}

${c.kind}, ${num(participantsOf(c))} participants (${perRegion(c.regions, num)}); ${c.cameras} camera(s), ${c.microphones} microphone(s), ${c.unmuted} unmuted, ${c.speaking} speaking; ${c.kind === 'meeting' ? `last-N ${c.lastN}, the stage at layer ${c.viewerLayer}, thumbnails at layer 0` : `viewers on layer ${c.viewerLayer}`}; media nodes of ${c.nodeCores} cores and ${bits(c.nodeBandwidthBps)} planned to ${num(c.targetLoad * 100)} %; everyone joining over ${c.joinSeconds} s; ${c.controlPlaneReplicas} control-plane replicas of ${c.controlPlaneCores} cores.
Options: ${options}.

${resultTable(r)}

## Limits, the first to bind first

${limitsTable(r)}

${r.fits ? 'Every limit holds.' : `First to break: **${r.firstLimit.name}** (${num(r.firstLimit.ratio)} x what it takes).`}

## Figures (${MEASURED_ON.date}, ${MEASURED_ON.machine})

${figuresTable()}
`;
}
