// Where panels sit on Grafana's grid: the one layout the Grafana JSON and the previews share.
import type { Dashboard, Panel } from './model.ts';

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PlacedRow {
  title: string;
  gridPos: GridPos;
  panels: { panel: Panel; gridPos: GridPos }[];
}

/**
 * Where each row header and panel sits on Grafana's 24-column grid: panels fill a row
 * left to right and wrap, each row starting below the tallest panel before it. The one
 * layout the Grafana JSON and the previews share.
 */
export function layout(dashboard: Dashboard): PlacedRow[] {
  let y = 0;
  return dashboard.rows.map((row) => {
    const placed: PlacedRow = { title: row.title, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] };
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.panels) {
      const w = panel.width ?? (panel.type === 'stat' ? 4 : 12);
      const h = panel.type === 'stat' ? 4 : 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      placed.panels.push({ panel, gridPos: { x, y, w, h } });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
    return placed;
  });
}
