import { conference } from './conference.ts';
import { type Figures, figureValues } from './figures.ts';
import { edgeSizing } from './media.ts';
import { type CapacityResult, capacityModel } from './model.ts';
import { bits, figuresTable, limitsTable, num, resultTable } from './report.ts';
import { SCENARIOS, TYPICAL_LECTURES } from './scenarios.ts';

/**
 * The tables deploy/README's "## Sizing" shows, each between `<!-- capacity:<name> -->`
 * and `<!-- /capacity:<name> -->`: generated here, written by
 * `node loadtest/capacity-model.ts --readme`, and compared by
 * test/unit/capacity-model.test.ts, so the guide says what the model computes.
 */
export function readmeBlocks(figures?: Figures): Record<string, string> {
  const blocks: Record<string, string> = { typical: typicalTable(figures) };
  for (const name of ['lecture-100k', 'meeting-1000-raised'] as const) {
    const result = capacityModel(SCENARIOS[name], figures);
    blocks[name] = resultTable(result);
    blocks[`${name}-limits`] = limitsTable(result);
    blocks[`${name}-summary`] = summaryLine(result);
  }
  blocks['lecture-100k-resync'] = summaryLine(capacityModel(SCENARIOS['lecture-100k-resync-30s'], figures));
  blocks['meeting-1000-defaults'] = summaryLine(capacityModel(SCENARIOS['meeting-1000'], figures));
  return blocks;
}

/** docs/capacity.md's generated parts: the figures, and the default-budget meeting in full. */
export function docsBlocks(figures?: Figures): Record<string, string> {
  const meeting = capacityModel(SCENARIOS['meeting-1000'], figures);
  return {
    figures: figuresTable(),
    'meeting-1000': resultTable(meeting),
    'meeting-1000-limits': limitsTable(meeting),
  };
}

/** The files the blocks live in, for the CLI's --readme and the test. */
export const SIZING_DOCS = { 'deploy/README.md': readmeBlocks, 'docs/capacity.md': docsBlocks };

/** One sentence: whether it fits, the limit nearest (or past) and the largest audience of this shape that fits. */
function summaryLine(r: CapacityResult): string {
  const l = r.firstLimit;
  const [what, who] = r.conference.kind === 'lecture' ? ['lecture', 'viewers'] : ['meeting', 'people'];
  const verdict = r.fits ? 'Fits; the nearest limit is' : 'Does not fit: first to break is';
  return `${verdict} **${l.name}** at ${num(l.ratio)} x (${num(l.used)} / ${num(l.limit)}, ${l.unit}); the largest ${what} of this shape that fits is ${num(r.largestFitting)} ${who}.`;
}

/** Per-core and per-node figures, and lectures of typical sizes in one region. */
function typicalTable(figures: Figures = figureValues()): string {
  const rows = TYPICAL_LECTURES.map((viewers) => {
    const r = capacityModel({ kind: 'lecture', regions: { here: viewers } }, figures);
    const edges = r.media.edgesByRegion.here ?? 0;
    const fits = r.fits ? 'yes' : `no: ${r.firstLimit.name}`;
    return `| ${num(viewers)} | ${num(edges)} | ${num(r.media.relaysByRegion.here ?? 0)} | ${bits(viewers * r.media.edge.perParticipant.bps)} | ${fits} |`;
  });
  const lecture = edgeSizing(conference({ kind: 'lecture', regions: { here: 1 } }), figures);
  const thumbs = edgeSizing(conference({ kind: 'lecture', regions: { here: 1 }, viewerLayer: 0 }), figures);
  return [
    `Viewers per core (720p + audio, WebRTC): ${num(1 / lecture.perParticipant.cores)}; on thumbnails (180p): ${num(1 / thumbs.perParticipant.cores)}.`,
    `Viewers per 8-core, 10 Gb/s edge at 70 %: ${num(lecture.perEdge)} at 720p (bound by ${lecture.boundBy}), ${num(thumbs.perEdge)} at 180p (bound by ${thumbs.boundBy}).`,
    '',
    '| lecture viewers in one region | edges | relays | bytes to the viewers | fits (5-minute join ramp) |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** `text` with every block between its markers replaced; names without markers are listed in `missing`. */
export function withBlocks(
  text: string,
  blocks: Record<string, string>,
): { text: string; missing: string[] } {
  const missing: string[] = [];
  for (const [name, body] of Object.entries(blocks)) {
    const open = `<!-- capacity:${name} -->`;
    const close = `<!-- /capacity:${name} -->`;
    const start = text.indexOf(open);
    const end = text.indexOf(close);
    if (start < 0 || end < start) {
      missing.push(name);
      continue;
    }
    text = `${text.slice(0, start + open.length)}\n${body}\n${text.slice(end)}`;
  }
  return { text, missing };
}
