// Kaskade / Overview: the whole mesh at a glance.
import { type Dashboard, quantile, rate, SEL } from '../model.ts';

export const overview: Dashboard = {
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
