// Kaskade / Nodes and workers: each media node, its mediasoup workers and its process.
import { type Dashboard, type Panel, rate, SEL } from '../model.ts';

const perWorker = (title: string, metric: string, description: string): Panel => ({
  title,
  description,
  unit: 'short',
  width: 6,
  queries: [{ expr: `sum by (node, worker) (${metric}{${SEL}})`, legend: '{{node}} w{{worker}}' }],
});

export const nodes: Dashboard = {
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
