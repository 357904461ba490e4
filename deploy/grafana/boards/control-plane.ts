// Kaskade / Control plane: registry, placement, NATS and Redis.
import { type Dashboard, quantile, RATE, rate, SEL } from '../model.ts';

export const controlPlane: Dashboard = {
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
