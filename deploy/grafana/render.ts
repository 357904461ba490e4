// Draws a dashboard the way Grafana lays it out (24-column grid, dark theme) from
// Prometheus range data, as PNG: previews of the dashboards without a Grafana at hand.
import { Resvg } from '@resvg/resvg-js';
import { layout } from './layout.ts';
import type { Dashboard, Panel } from './model.ts';

/** One line of a panel: its legend and its samples (unix seconds, value). */
export interface Line {
  legend: string;
  points: [number, number][];
}

const WIDTH = 1680;
const COLUMN = WIDTH / 24;
const ROW = 34;
const PALETTE = ['#73bf69', '#f2cc0c', '#5794f2', '#ff780a', '#b877d9', '#f2495c', '#8ab8ff', '#fade2a'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A value in the panel's unit, as Grafana would print it. */
export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '–';
  const scaled = (v: number, steps: [number, string][], base: string) => {
    for (const [size, name] of steps) if (Math.abs(v) >= size) return `${trim(v / size)} ${name}`;
    return `${trim(v)}${base}`;
  };
  switch (unit) {
    case 'percentunit':
      return `${trim(value * 100)}%`;
    case 'bps':
      return scaled(
        value,
        [
          [1e9, 'Gb/s'],
          [1e6, 'Mb/s'],
          [1e3, 'kb/s'],
        ],
        ' b/s',
      );
    case 'bytes':
      return scaled(
        value,
        [
          [2 ** 30, 'GiB'],
          [2 ** 20, 'MiB'],
          [2 ** 10, 'KiB'],
        ],
        ' B',
      );
    case 's':
      if (value !== 0 && Math.abs(value) < 1) return `${trim(value * 1000)} ms`;
      return `${trim(value)} s`;
    case 'ops':
      return `${trim(value)}/s`;
    case 'pps':
      return `${trim(value)} p/s`;
    default:
      return scaled(
        value,
        [
          [1e6, 'M'],
          [1e3, 'K'],
        ],
        '',
      );
  }
}

function trim(v: number): string {
  if (v === 0) return '0';
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return String(Number(v.toFixed(digits)));
}

function panelSvg(panel: Panel, lines: Line[], x: number, y: number, w: number, h: number): string {
  const parts = [
    `<rect x="${x + 4}" y="${y + 4}" width="${w - 8}" height="${h - 8}" rx="3" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="${x + 14}" y="${y + 24}" font-size="13" font-weight="bold" fill="#ccccdc">${esc(panel.title)}</text>`,
  ];
  const data = lines.filter((l) => l.points.some(([, v]) => Number.isFinite(v)));
  if (panel.type === 'stat') {
    const shown = data.slice(0, 4);
    if (shown.length === 0)
      parts.push(
        `<text x="${x + w / 2}" y="${y + h / 2 + 8}" font-size="14" fill="#8e8e8e" text-anchor="middle">No data</text>`,
      );
    shown.forEach((line, i) => {
      const last = [...line.points].reverse().find(([, v]) => Number.isFinite(v))?.[1] ?? Number.NaN;
      const cw = (w - 20) / shown.length;
      const cx = x + 10 + cw * i + cw / 2;
      parts.push(
        `<text x="${cx}" y="${y + h / 2 + 14}" font-size="30" font-weight="bold" fill="${PALETTE[i % PALETTE.length]}" text-anchor="middle">${esc(formatValue(last, panel.unit))}</text>`,
        `<text x="${cx}" y="${y + h - 14}" font-size="11" fill="#9fa7b3" text-anchor="middle">${esc(line.legend)}</text>`,
      );
    });
    return parts.join('');
  }
  const left = x + 70;
  const right = x + w - 16;
  const top = y + 36;
  const legendRows = Math.min(3, Math.ceil(Math.min(data.length, 9) / 3));
  const bottom = y + h - 20 - legendRows * 15;
  const all = data.flatMap((l) => l.points.filter(([, v]) => Number.isFinite(v)));
  if (all.length === 0) {
    parts.push(
      `<text x="${x + w / 2}" y="${y + h / 2}" font-size="14" fill="#8e8e8e" text-anchor="middle">No data</text>`,
    );
    return parts.join('');
  }
  const t0 = Math.min(...all.map(([t]) => t));
  const t1 = Math.max(t0 + 1, ...all.map(([t]) => t));
  const vmax = Math.max(panel.max ?? 0, ...all.map(([, v]) => v)) || 1;
  const px = (t: number) => left + ((t - t0) / (t1 - t0)) * (right - left);
  const py = (v: number) => bottom - (v / vmax) * (bottom - top);
  for (let i = 0; i <= 4; i++) {
    const v = (vmax * i) / 4;
    parts.push(
      `<line x1="${left}" x2="${right}" y1="${py(v)}" y2="${py(v)}" stroke="#2c3235"/>`,
      `<text x="${left - 6}" y="${py(v) + 4}" font-size="10" fill="#9fa7b3" text-anchor="end">${esc(formatValue(v, panel.unit))}</text>`,
    );
  }
  data.forEach((line, i) => {
    const color = PALETTE[i % PALETTE.length];
    // A gap (no value, or NaN) breaks the line, as in Grafana; a lone point is a dot.
    let path = '';
    let previous = false;
    line.points.forEach(([t, v], k) => {
      const next = line.points[k + 1];
      if (!Number.isFinite(v)) {
        previous = false;
        return;
      }
      if (!previous && !(next && Number.isFinite(next[1])))
        parts.push(`<circle cx="${px(t).toFixed(1)}" cy="${py(v).toFixed(1)}" r="2" fill="${color}"/>`);
      path += `${previous ? 'L' : 'M'}${px(t).toFixed(1)},${py(v).toFixed(1)}`;
      previous = true;
    });
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
  });
  data.slice(0, 9).forEach((line, i) => {
    const lx = x + 14 + (i % 3) * ((w - 28) / 3);
    const ly = bottom + 20 + Math.floor(i / 3) * 15;
    parts.push(
      `<rect x="${lx}" y="${ly - 8}" width="10" height="3" fill="${PALETTE[i % PALETTE.length]}"/>`,
      `<text x="${lx + 14}" y="${ly - 3}" font-size="10" fill="#ccccdc">${esc(line.legend.slice(0, 34))}</text>`,
    );
  });
  return parts.join('');
}

/** The whole dashboard as PNG; `data` holds each panel's lines, in panel order. */
export function renderDashboard(dashboard: Dashboard, data: Line[][], subtitle: string): Buffer {
  const parts: string[] = [];
  const top = 56; // below the dashboard's title
  let bottom = top;
  let index = 0;
  for (const row of layout(dashboard)) {
    const y = top + row.gridPos.y * ROW;
    parts.push(
      `<text x="12" y="${y + 22}" font-size="15" font-weight="bold" fill="#ccccdc">${esc(row.title)}</text>`,
    );
    bottom = Math.max(bottom, y + ROW);
    for (const { panel, gridPos } of row.panels) {
      const [x, py, w, h] = [gridPos.x * COLUMN, top + gridPos.y * ROW, gridPos.w * COLUMN, gridPos.h * ROW];
      parts.push(panelSvg(panel, data[index++] ?? [], x, py, w, h));
      bottom = Math.max(bottom, py + h);
    }
  }
  const height = bottom + 12;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, sans-serif">
<rect width="${WIDTH}" height="${height}" fill="#111217"/>
<text x="12" y="30" font-size="19" font-weight="bold" fill="#ffffff">${esc(dashboard.title)}</text>
<text x="${WIDTH - 12}" y="30" font-size="12" fill="#9fa7b3" text-anchor="end">${esc(subtitle)}</text>
${parts.join('\n')}</svg>`;
  return Buffer.from(new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng());
}
