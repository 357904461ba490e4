// @kaskade/dashboards: the Grafana dashboards, written as data (boards/, listed in dashboards.ts) and
// generated into dashboards/*.json, and the renderer of their previews.
export { dashboardFile, dashboardJson, dashboards, resolveVariables } from './dashboards.ts';
export { layout } from './layout.ts';
export type { Dashboard, Panel, Query } from './model.ts';
export type { Line } from './render.ts';
export { formatValue, renderDashboard } from './render.ts';
