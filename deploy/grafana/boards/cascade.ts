// Kaskade / Cascade: the pipe links between nodes.
import { type Dashboard, quantile, rate, SEL } from '../model.ts';

export const cascade: Dashboard = {
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
