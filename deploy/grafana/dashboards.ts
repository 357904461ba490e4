// The Grafana dashboards, defined once here and written as JSON to deploy/grafana/dashboards/
// (`node deploy/grafana/dashboards.ts --write`; a unit test fails when the JSON is stale).
// test/integration/prometheus.test.ts runs every panel's queries against a real Prometheus
// scraping a local mesh that carries media: a panel that does not parse, or returns no
// series while it should, fails CI.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Query {
  expr: string;
  legend: string;
}

export interface Panel {
  title: string;
  description: string;
  /** A Grafana unit id: short, percentunit, bps, s, bytes, ops, pps. */
  unit: string;
  type?: 'timeseries' | 'stat';
  queries: Query[];
  /** Whether a healthy mesh carrying media returns series for every query (default true). */
  mustHaveData?: boolean;
  /** Why a panel may be empty on a healthy mesh. */
  emptyWhen?: string;
  width?: number;
  max?: number;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  rows: { title: string; panels: Panel[] }[];
}

/** Selector of the region and node variables. */
const SEL = 'region=~"$region",node=~"$node"';
const RATE = '$__rate_interval';
const rate = (metric: string, extra = '') => `rate(${metric}{${SEL}${extra}}[${RATE}])`;
const quantile = (q: number, metric: string, by: string, extra = '') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (${rate(`${metric}_bucket`, extra)}))`;

const overview: Dashboard = {
  uid: 'kaskade-overview',
  title: 'Kaskade / Overview',
  description: 'Regions, nodes, rooms, participants, bitrate, load and health of the whole mesh.',
  rows: [
    {
      title: 'Mesh',
      panels: [
        {
          title: 'Edges serving',
          description: 'Edges the control plane hears from and places joins on.',
          unit: 'short',
          type: 'stat',
          width: 4,
          queries: [
            {
              expr: 'max by (target_region) (kaskade_nodes{kind="edge",state="serving",target_region=~"$region"})',
              legend: '{{target_region}}',
            },
          ],
        },
        {
          title: 'Relays serving',
          description: 'Relay nodes carrying streams into their region.',
          unit: 'short',
          type: 'stat',
          width: 4,
          queries: [
            {
              expr: 'max by (target_region) (kaskade_nodes{kind="relay",state="serving",target_region=~"$region"})',
              legend: '{{target_region}}',
            },
          ],
        },
        {
          title: 'Rooms',
          description: 'Rooms open, counted per node (a room on three edges counts three times).',
          unit: 'short',
          type: 'stat',
          width: 4,
          queries: [{ expr: `sum(kaskade_rooms{${SEL}})`, legend: 'rooms on nodes' }],
        },
        {
          title: 'Participants',
          description: 'Participants connected to edges.',
          unit: 'short',
          type: 'stat',
          width: 4,
          queries: [{ expr: `sum(kaskade_participants{${SEL}})`, legend: 'participants' }],
        },
        {
          title: 'Targets up',
          description: 'Kaskade processes Prometheus scrapes successfully, by job.',
          unit: 'short',
          type: 'stat',
          width: 4,
          queries: [{ expr: `sum by (job) (up{job=~"kaskade-.*",${SEL}})`, legend: '{{job}}' }],
        },
        {
          title: 'Alerts firing',
          description: 'Kaskade alerts firing now (see deploy/README.md for runbooks).',
          unit: 'short',
          type: 'stat',
          width: 4,
          mustHaveData: false,
          emptyWhen: 'no alert fires',
          queries: [
            {
              expr: 'count by (alertname) (ALERTS{alertstate="firing",alertname=~"Kaskade.*"})',
              legend: '{{alertname}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Traffic and load',
      panels: [
        {
          title: 'Participants by region',
          description: 'Participants connected to the edges of each region.',
          unit: 'short',
          queries: [{ expr: `sum by (region) (kaskade_participants{${SEL}})`, legend: '{{region}}' }],
        },
        {
          title: 'Bitrate by region',
          description:
            'Bits per second received (in) and sent (out) by the nodes of each region, over all transports.',
          unit: 'bps',
          queries: [
            {
              expr: `8 * sum by (region, direction) (${rate('kaskade_transport_bytes_total')})`,
              legend: '{{region}} {{direction}}',
            },
          ],
        },
        {
          title: 'Node load ratio',
          description:
            "Each node's load (0..1): the largest of worker CPU, bandwidth, consumer budget and participant capacity shares. Placement avoids nodes at 1.",
          unit: 'percentunit',
          max: 1,
          queries: [{ expr: `max by (node) (kaskade_node_load_ratio{${SEL}})`, legend: '{{node}}' }],
        },
        {
          title: 'Joins by result',
          description: 'Join attempts per second on the edges, ok or failed with the reason.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (result, reason) (${rate('kaskade_joins_total')})`,
              legend: '{{result}} {{reason}}',
            },
          ],
        },
        {
          title: 'Join latency (p95)',
          description:
            'joined: WebSocket open to join answered; first_media: join request to the first RTP packet.',
          unit: 's',
          queries: [{ expr: quantile(0.95, 'kaskade_join_seconds', 'stage'), legend: '{{stage}}' }],
        },
        {
          title: 'Bytes between regions',
          description:
            'Bits per second sent over pipe links from one region to another (counted by the sender).',
          unit: 'bps',
          queries: [
            {
              expr: `8 * sum by (src_region, dst_region) (${rate('kaskade_pipe_bytes_total')})`,
              legend: '{{src_region}} → {{dst_region}}',
            },
          ],
        },
      ],
    },
  ],
};

const perWorker = (title: string, metric: string, description: string): Panel => ({
  title,
  description,
  unit: 'short',
  width: 6,
  queries: [{ expr: `sum by (node, worker) (${metric}{${SEL}})`, legend: '{{node}} w{{worker}}' }],
});

const nodes: Dashboard = {
  uid: 'kaskade-nodes',
  title: 'Kaskade / Nodes and workers',
  description:
    'Each edge and relay: its mediasoup workers, what they carry and cost, and the Node.js process.',
  rows: [
    {
      title: 'Workers',
      panels: [
        {
          title: 'Worker CPU',
          description:
            'CPU of each mediasoup worker process (one core = 100 %). A worker is single-threaded: near 100 % it is saturated.',
          unit: 'percentunit',
          width: 12,
          queries: [
            {
              expr: `sum by (node, worker) (${rate('kaskade_worker_cpu_seconds_total')})`,
              legend: '{{node}} w{{worker}}',
            },
          ],
        },
        {
          title: 'Load components',
          description: 'The shares the load ratio is the largest of, per node.',
          unit: 'percentunit',
          width: 12,
          max: 1,
          queries: [
            {
              expr: `max by (node, component) (kaskade_node_load_component_ratio{${SEL}})`,
              legend: '{{node}} {{component}}',
            },
          ],
        },
        perWorker(
          'Consumers per worker',
          'kaskade_worker_consumers',
          'Consumers (pipe sends included) on each worker; the consumer budget is per worker.',
        ),
        perWorker(
          'Producers per worker',
          'kaskade_worker_producers',
          'Producers (pipe copies included) on each worker.',
        ),
        perWorker(
          'Transports per worker',
          'kaskade_worker_transports',
          'WebRTC, plain and pipe transports on each worker.',
        ),
        perWorker(
          'Routers per worker',
          'kaskade_worker_routers',
          'Routers (one per room and worker) on each worker.',
        ),
        {
          title: 'Worker deaths (1h)',
          description:
            "mediasoup workers that died in the last hour; each is replaced and its rooms' clients reconnect.",
          unit: 'short',
          width: 8,
          queries: [
            { expr: `sum by (node) (increase(kaskade_worker_deaths_total{${SEL}}[1h]))`, legend: '{{node}}' },
          ],
        },
        {
          title: 'Bitrate per node',
          description: 'Bits per second in and out of each node, from the stats sampling loop.',
          unit: 'bps',
          width: 16,
          queries: [
            {
              expr: `sum by (node, direction) (kaskade_bitrate_bps{${SEL}})`,
              legend: '{{node}} {{direction}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Sessions and process',
      panels: [
        {
          title: 'Participants per node',
          description: 'Participants connected to each edge.',
          unit: 'short',
          width: 8,
          queries: [{ expr: `sum by (node) (kaskade_participants{${SEL}})`, legend: '{{node}}' }],
        },
        {
          title: 'Rooms per node',
          description: 'Rooms open on each edge.',
          unit: 'short',
          width: 8,
          queries: [{ expr: `sum by (node) (kaskade_rooms{${SEL}})`, legend: '{{node}}' }],
        },
        {
          title: 'WebSocket connections',
          description: 'Open signaling WebSockets per edge.',
          unit: 'short',
          width: 8,
          queries: [{ expr: `sum by (node) (kaskade_websocket_connections{${SEL}})`, legend: '{{node}}' }],
        },
        {
          title: 'Event-loop lag (p99)',
          description:
            'Node.js event-loop lag of each process; signaling and control messages wait this long.',
          unit: 's',
          width: 8,
          queries: [
            { expr: `max by (node) (kaskade_nodejs_eventloop_lag_p99_seconds{${SEL}})`, legend: '{{node}}' },
          ],
        },
        {
          title: 'Process CPU',
          description: 'CPU of each Kaskade Node.js process (its workers not included).',
          unit: 'percentunit',
          width: 8,
          queries: [
            { expr: `sum by (node) (${rate('kaskade_process_cpu_seconds_total')})`, legend: '{{node}}' },
          ],
        },
        {
          title: 'Resident memory',
          description: 'Resident memory of each Kaskade Node.js process.',
          unit: 'bytes',
          width: 8,
          queries: [
            { expr: `max by (node) (kaskade_process_resident_memory_bytes{${SEL}})`, legend: '{{node}}' },
          ],
        },
      ],
    },
  ],
};

const cascade: Dashboard = {
  uid: 'kaskade-cascade',
  title: 'Kaskade / Cascade',
  description:
    'Pipe links between nodes: what they carry, per hop and region pair, how long a new stream takes to pipe and why it fails.',
  rows: [
    {
      title: 'Links',
      panels: [
        {
          title: 'Pipe links by remote region',
          description: 'Links open on each node, by the region of the node at the other end.',
          unit: 'short',
          queries: [
            {
              expr: `sum by (node, remote_region) (kaskade_pipe_links{${SEL}})`,
              legend: '{{node}} ↔ {{remote_region}}',
            },
          ],
        },
        {
          title: 'Streams piped',
          description: 'Streams carried by pipe links: in = copies received, out = sent to other nodes.',
          unit: 'short',
          queries: [
            {
              expr: `sum by (node, direction) (kaskade_pipe_streams{${SEL}})`,
              legend: '{{node}} {{direction}}',
            },
          ],
        },
        {
          title: 'Bytes per hop',
          description: 'Bits per second sent over pipe links, by sending node and destination region.',
          unit: 'bps',
          queries: [
            {
              expr: `8 * sum by (node, dst_region) (${rate('kaskade_pipe_bytes_total')})`,
              legend: '{{node}} → {{dst_region}}',
            },
          ],
        },
        {
          title: 'Packets by region pair',
          description: 'RTP packets per second sent over pipe links from one region to another.',
          unit: 'pps',
          queries: [
            {
              expr: `sum by (src_region, dst_region) (${rate('kaskade_pipe_packets_total')})`,
              legend: '{{src_region}} → {{dst_region}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Setup',
      panels: [
        {
          title: 'Pipe setup latency by region pair (p95)',
          description:
            "Time to set up a copy of a remote stream (link if new, consume upstream, produce here), by upstream region and this node's region.",
          unit: 's',
          queries: [
            {
              expr: quantile(0.95, 'kaskade_pipe_setup_seconds', 'upstream_region, region'),
              legend: '{{upstream_region}} → {{region}}',
            },
          ],
        },
        {
          title: 'Pipe setups per second',
          description: "Copies set up per second, by upstream region and this node's region.",
          unit: 'ops',
          queries: [
            {
              expr: `sum by (upstream_region, region) (${rate('kaskade_pipe_setup_seconds_count')})`,
              legend: '{{upstream_region}} → {{region}}',
            },
          ],
        },
        {
          title: 'Pipe setup failures',
          description:
            'Setups that failed per second, by reason and region pair (conflict is a resolved race, not an outage).',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (reason, upstream_region, region) (${rate('kaskade_pipe_setup_failures_total')})`,
              legend: '{{reason}} {{upstream_region}} → {{region}}',
            },
          ],
        },
        {
          title: 'Pipe RPC latency (p95)',
          description: 'Round trip of the pipe requests between nodes over NATS, by method.',
          unit: 's',
          queries: [{ expr: quantile(0.95, 'kaskade_nats_request_seconds', 'method'), legend: '{{method}}' }],
        },
      ],
    },
  ],
};

const quality: Dashboard = {
  uid: 'kaskade-quality',
  title: 'Kaskade / Media quality',
  description:
    "Loss, RTT, jitter, mediasoup scores and RTCP feedback from the nodes' stats sampling loops; in = towards the node, out = to viewers.",
  rows: [
    {
      title: 'Network',
      panels: [
        {
          title: 'Packet loss (p95)',
          description:
            'Fraction of packets lost per stream: in = towards the node (publishers, pipes), out = at viewers (from their receiver reports).',
          unit: 'percentunit',
          queries: [
            {
              expr: quantile(0.95, 'kaskade_packet_loss_ratio', 'direction, transport'),
              legend: '{{direction}} {{transport}}',
            },
          ],
        },
        {
          title: 'Streams with loss over 2 %',
          description: 'Share of sampled streams losing more than 2 % of their packets.',
          unit: 'percentunit',
          max: 1,
          queries: [
            {
              expr: `1 - sum by (direction) (${rate('kaskade_packet_loss_ratio_bucket', ',le="0.02"')}) / sum by (direction) (${rate('kaskade_packet_loss_ratio_count')})`,
              legend: '{{direction}}',
            },
          ],
        },
        {
          title: 'Round-trip time to viewers (p50, p95)',
          description: 'RTT of sent streams from RTCP.',
          unit: 's',
          queries: [
            { expr: quantile(0.5, 'kaskade_rtt_seconds', 'transport'), legend: 'p50 {{transport}}' },
            { expr: quantile(0.95, 'kaskade_rtt_seconds', 'transport'), legend: 'p95 {{transport}}' },
          ],
        },
        {
          title: 'Jitter (p95)',
          description: 'Interarrival jitter: in = measured on received streams, out = reported by viewers.',
          unit: 's',
          queries: [
            {
              expr: quantile(0.95, 'kaskade_jitter_seconds', 'direction, transport'),
              legend: '{{direction}} {{transport}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Scores and feedback',
      panels: [
        {
          title: 'Mean consumer score',
          description: 'mediasoup score (0..10) of streams sent to viewers, averaged over samples.',
          unit: 'short',
          max: 10,
          queries: [
            {
              expr: `sum by (transport) (${rate('kaskade_consumer_score_sum')}) / sum by (transport) (${rate('kaskade_consumer_score_count')})`,
              legend: '{{transport}}',
            },
          ],
        },
        {
          title: 'Mean producer score',
          description: 'mediasoup score (0..10) of received streams (per encoding), averaged over samples.',
          unit: 'short',
          max: 10,
          queries: [
            {
              expr: `sum by (transport) (${rate('kaskade_producer_score_sum')}) / sum by (transport) (${rate('kaskade_producer_score_count')})`,
              legend: '{{transport}}',
            },
          ],
        },
        {
          title: 'RTCP feedback',
          description:
            'NACK, PLI and FIR per second: in = sent by nodes about streams they receive, out = received from viewers.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (type, direction) (${rate('kaskade_rtcp_feedback_total')})`,
              legend: '{{type}} {{direction}}',
            },
          ],
        },
        {
          title: 'Transport failures and reconnects',
          description:
            'ICE disconnects and DTLS failures of WebRTC transports, and clients rejoining or restarting ICE, per second.',
          unit: 'ops',
          queries: [
            { expr: `sum by (reason) (${rate('kaskade_transport_failures_total')})`, legend: '{{reason}}' },
            { expr: `sum by (kind) (${rate('kaskade_reconnects_total')})`, legend: 'reconnect {{kind}}' },
          ],
        },
      ],
    },
  ],
};

const controlPlane: Dashboard = {
  uid: 'kaskade-control-plane',
  title: 'Kaskade / Control plane',
  description: 'Node registry, placement, and the NATS and Redis every process depends on.',
  rows: [
    {
      title: 'Registry and placement',
      panels: [
        {
          title: 'Nodes by region and state',
          description: 'Nodes the control plane hears from, by kind, state and region.',
          unit: 'short',
          width: 8,
          queries: [
            {
              expr: 'max by (target_region, kind, state) (kaskade_nodes{target_region=~"$region"})',
              legend: '{{target_region}} {{kind}} {{state}}',
            },
          ],
        },
        {
          title: 'Reported load ratio',
          description: 'The load each node reports in its heartbeats, as placement sees it.',
          unit: 'percentunit',
          width: 8,
          max: 1,
          queries: [
            {
              expr: 'max by (target_node) (kaskade_registry_node_load_ratio{target_region=~"$region",target_node=~"$node"})',
              legend: '{{target_node}}',
            },
          ],
        },
        {
          title: 'Heartbeat age',
          description: 'Time since each node was last heard; past the node timeout it is declared dead.',
          unit: 's',
          width: 8,
          queries: [
            {
              expr: 'max by (target_node) (kaskade_registry_heartbeat_age_seconds{target_region=~"$region",target_node=~"$node"})',
              legend: '{{target_node}}',
            },
          ],
        },
        {
          title: 'Join requests by result',
          description:
            'Join requests to the control plane per second: ok, or why refused (bad token, wrong room, no capacity).',
          unit: 'ops',
          width: 8,
          queries: [
            { expr: `sum by (result) (rate(kaskade_join_requests_total[${RATE}]))`, legend: '{{result}}' },
          ],
        },
        {
          title: 'Placements by outcome',
          description:
            'Join placements per second: the tier that chose the edge, or no-edges / all-full when none could.',
          unit: 'ops',
          width: 8,
          queries: [
            { expr: `sum by (outcome) (rate(kaskade_placements_total[${RATE}]))`, legend: '{{outcome}}' },
          ],
        },
        {
          title: 'Nodes declared dead (1h)',
          description: 'Nodes declared dead in the last hour, by control-plane replica.',
          unit: 'short',
          width: 8,
          queries: [
            { expr: 'sum by (node) (increase(kaskade_nodes_declared_dead_total[1h]))', legend: '{{node}}' },
          ],
        },
      ],
    },
    {
      title: 'NATS and Redis',
      panels: [
        {
          title: 'NATS connected',
          description: '1 while a process is connected to NATS.',
          unit: 'short',
          queries: [{ expr: `min by (node) (kaskade_nats_connected{${SEL}})`, legend: '{{node}}' }],
        },
        {
          title: 'Redis connected',
          description: "1 while a process's directory connection to Redis is ready.",
          unit: 'short',
          queries: [{ expr: `min by (node) (kaskade_redis_connected{${SEL}})`, legend: '{{node}}' }],
        },
        {
          title: 'Redis operation latency (p95)',
          description: 'Duration of directory operations, by operation.',
          unit: 's',
          queries: [
            { expr: quantile(0.95, 'kaskade_redis_operation_seconds', 'operation'), legend: '{{operation}}' },
          ],
        },
        {
          title: 'Redis operation failures',
          description: 'Directory operations failing per second, by operation.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (operation) (${rate('kaskade_redis_operation_failures_total')})`,
              legend: '{{operation}}',
            },
          ],
        },
        {
          title: 'NATS request latency (p95)',
          description: 'Round trip of requests between nodes over NATS, by method.',
          unit: 's',
          queries: [{ expr: quantile(0.95, 'kaskade_nats_request_seconds', 'method'), legend: '{{method}}' }],
        },
        {
          title: 'NATS request failures',
          description:
            'Requests failing per second: unavailable (no reply), error_reply, malformed; and malformed messages dropped.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (reason) (${rate('kaskade_nats_request_failures_total')})`,
              legend: '{{reason}}',
            },
            { expr: `sum(${rate('kaskade_nats_malformed_messages_total')})`, legend: 'malformed dropped' },
          ],
        },
      ],
    },
  ],
};

export const dashboards: Dashboard[] = [overview, nodes, cascade, quality, controlPlane];

/** A panel query as Grafana sends it with every region and node selected. */
export function resolveVariables(expr: string, rateInterval = '15s'): string {
  return expr
    .replaceAll('$region', '.*')
    .replaceAll('$node', '.*')
    .replaceAll('$__rate_interval', rateInterval);
}

const VARIABLE_SOURCE = 'kaskade_process_start_time_seconds';

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

export const dashboardDir = join(dirname(fileURLToPath(import.meta.url)), 'dashboards');
export const dashboardFile = (d: Dashboard) => join(dashboardDir, `${d.uid}.json`);
export const dashboardJson = (d: Dashboard) => `${JSON.stringify(toGrafana(d), null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const write = process.argv.includes('--write');
  let stale = 0;
  mkdirSync(dashboardDir, { recursive: true });
  for (const d of dashboards) {
    const file = dashboardFile(d);
    const current = (() => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    })();
    if (current === dashboardJson(d)) continue;
    stale++;
    if (write) writeFileSync(file, dashboardJson(d));
    console.log(`${write ? 'wrote' : 'stale'}: ${file}`);
  }
  if (stale && !write) process.exit(1);
}
