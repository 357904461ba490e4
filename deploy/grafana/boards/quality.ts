// Kaskade / Media quality: loss, RTT, jitter, scores and RTCP feedback.
import { type Dashboard, quantile, rate } from '../model.ts';

export const quality: Dashboard = {
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
