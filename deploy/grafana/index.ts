// @kaskade/dashboards: the Grafana dashboards, written as data (dashboards.ts) and
// generated into dashboards/*.json, and the renderer of their previews.
export type { Dashboard, Panel, Query } from './dashboards.ts';
export { dashboardFile, dashboardJson, dashboards, layout, resolveVariables } from './dashboards.ts';
export type { Line } from './render.ts';
export { formatValue, renderDashboard } from './render.ts';
