import { Resvg } from '@resvg/resvg-js';

export interface Series {
  label: string;
  values: number[];
  color: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A grouped bar chart as PNG: one group per category, one bar per series; wider for many categories. */
export function barChart(title: string, unit: string, categories: string[], series: Series[]): Buffer {
  const width = Math.max(760, 110 + categories.length * 120);
  const height = 380;
  const left = 80;
  const bottom = 60;
  const top = 50;
  const plotW = width - left - 30;
  const plotH = height - top - bottom;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter(Number.isFinite)));
  const groupW = plotW / categories.length;
  const barW = (groupW * 0.7) / series.length;
  const parts: string[] = [
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="17" font-weight="bold">${esc(title)}</text>`,
    `<text x="18" y="${top + plotH / 2}" font-size="12" transform="rotate(-90 18 ${top + plotH / 2})" text-anchor="middle">${esc(unit)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#e3e6ee"/>`);
    parts.push(
      `<text x="${left - 8}" y="${y + 4}" font-size="11" text-anchor="end">${fmt((max * i) / 4)}</text>`,
    );
  }
  categories.forEach((category, c) => {
    const gx = left + c * groupW + groupW * 0.15;
    series.forEach((s, k) => {
      const v = s.values[c] ?? 0;
      const h = Number.isFinite(v) ? (plotH * v) / max : 0;
      const x = gx + k * barW;
      parts.push(
        `<rect x="${x}" y="${top + plotH - h}" width="${barW - 2}" height="${h}" fill="${s.color}"/>`,
      );
      parts.push(
        `<text x="${x + barW / 2 - 1}" y="${top + plotH - h - 4}" font-size="10" text-anchor="middle">${fmt(v)}</text>`,
      );
    });
    parts.push(
      `<text x="${left + c * groupW + groupW / 2}" y="${top + plotH + 18}" font-size="12" text-anchor="middle">${esc(category)}</text>`,
    );
  });
  series.forEach((s, k) => {
    const x = left + k * 170;
    parts.push(`<rect x="${x}" y="${height - 24}" width="12" height="12" fill="${s.color}"/>`);
    parts.push(`<text x="${x + 18}" y="${height - 14}" font-size="12">${esc(s.label)}</text>`);
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif">${parts.join('')}</svg>`;
  return Buffer.from(new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng());
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
