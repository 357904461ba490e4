// The Grafana JSON model of a dashboard.
import { layout } from './layout.ts';
import type { Dashboard } from './model.ts';

/** The metric whose labels list the regions and nodes the variables offer. */
const VARIABLE_SOURCE = 'kaskade_process_start_time_seconds';

/** The Grafana JSON model of a dashboard (schema 39: Grafana 10 and later). */
export function toGrafana(dashboard: Dashboard): Record<string, unknown> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax, not a template.
  const datasource = { type: 'prometheus', uid: '${datasource}' };
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  for (const row of layout(dashboard)) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: row.gridPos,
      panels: [],
    });
    for (const { panel, gridPos } of row.panels) {
      panels.push({
        id: id++,
        type: panel.type ?? 'timeseries',
        title: panel.title,
        description: panel.description,
        datasource,
        gridPos,
        fieldConfig: {
          defaults: {
            unit: panel.unit,
            min: 0,
            ...(panel.max === undefined ? {} : { max: panel.max }),
            ...(panel.type === 'stat'
              ? {}
              : { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never' } }),
          },
          overrides: [],
        },
        options:
          panel.type === 'stat'
            ? {
                reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
                colorMode: 'value',
                graphMode: 'area',
                textMode: 'value_and_name',
              }
            : {
                legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
                tooltip: { mode: 'multi', sort: 'desc' },
              },
        targets: panel.queries.map((q, i) => ({
          refId: String.fromCharCode(65 + i),
          datasource,
          expr: q.expr,
          legendFormat: q.legend,
          range: true,
        })),
      });
    }
  }
  const variable = (name: string, label: string, query: string) => ({
    name,
    label,
    type: 'query',
    datasource,
    query: { query, refId: name },
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  });
  return {
    uid: dashboard.uid,
    title: dashboard.title,
    description: dashboard.description,
    tags: ['kaskade'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    links: [{ type: 'dashboards', tags: ['kaskade'], asDropdown: true, title: 'Kaskade' }],
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
        variable('region', 'Region', `label_values(${VARIABLE_SOURCE}, region)`),
        variable('node', 'Node', `label_values(${VARIABLE_SOURCE}{region=~"$region"}, node)`),
      ],
    },
    panels,
  };
}
