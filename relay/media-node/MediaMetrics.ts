import {
  labelCombinations,
  preinitialisedCounter,
  preinitialisedGauge,
  preinitialisedHistogram,
} from '@kaskade/node-toolkit';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { Counter, Gauge, type Histogram, type Registry } from 'prom-client';
import { isLoopback, pipeRemoteRegion } from './pipe/index.ts';
import type { WorkerCensus } from './WorkerCensus.ts';

/** A worker as the metrics see it: its index on the node and what it carries. */
export interface MeteredWorker {
  index: number;
  census: WorkerCensus;
}

export interface MediaMetricsOptions {
  registry: Registry;
  /** This node's region: one end of every pipe's region pair. */
  region: string;
  workers: () => readonly MeteredWorker[];
  /** Sampling period of the stats loop. */
  intervalMs: number;
  /** At most this many getStats() calls per round; larger nodes are visited over several rounds. */
  maxStatsPerRound: number;
  /** The bitrate (in or out, bits/s) this node is sized for: the bandwidth share of the load. */
  maxBitrateBps: number;
  /** Other shares of the load (0..1), e.g. consumer budget and participant capacity. */
  loadShares: () => Record<string, number>;
  logger: Logger;
}

/** Media towards this node (in) or from it (out). */
type TrafficDirection = 'in' | 'out';
type Feedback = 'nack' | 'pli' | 'fir';
type StreamStats = {
  type: string;
  score: number;
  fractionLost: number;
  jitter: number;
  roundTripTime?: number;
  nackCount: number;
  pliCount: number;
  firCount: number;
  packetCount: number;
};

const TRANSPORTS = ['webrtc', 'plain', 'pipe'] as const;
const DIRECTIONS = ['in', 'out'] as const;
const LOAD_COMPONENTS = ['cpu', 'bandwidth', 'consumers', 'participants'] as const;

/**
 * The media side of a node's metrics (edges and relays alike): what each worker
 * carries and costs, media quality, RTCP feedback, bytes in and out, bytes and packets
 * over pipes by region pair, and the node's load ratio. Counts are read from the
 * workers' censuses when scraped; everything that needs getStats() comes from a
 * bounded sampling loop, so a scrape never fans out into thousands of worker requests.
 */
export class MediaMetrics {
  /** 0..1: the largest of worker CPU share, bandwidth share and the shares given by the node. */
  load = 0;
  /** Bits per second in and out over every transport, as of the last round. */
  bitrateBps = { in: 0, out: 0 };
  readonly #options: MediaMetricsOptions;
  readonly #workerDeaths: Counter<'worker'>;
  readonly #cpuSeconds: Counter<'worker'>;
  readonly #bytes: Counter<'direction' | 'transport'>;
  readonly #pipeBytes: Counter<'src_region' | 'dst_region'>;
  readonly #pipePackets: Counter<'src_region' | 'dst_region'>;
  readonly #feedback: Counter<'type' | 'direction'>;
  readonly #producerScore: Histogram<'transport'>;
  readonly #consumerScore: Histogram<'transport'>;
  readonly #loss: Histogram<'direction' | 'transport'>;
  readonly #jitter: Histogram<'direction' | 'transport'>;
  readonly #rtt: Histogram<'transport'>;
  readonly #loadComponents: Gauge<'component'>;
  /** Last cumulative values read from each object, for deltas. */
  readonly #last = new WeakMap<object, number[]>();
  #cursor = 0;
  #lastRoundAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: MediaMetricsOptions) {
    this.#options = options;
    const registers = [options.registry];
    const perWorker = (name: string, help: string, count: (census: WorkerCensus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.reset();
          for (const w of options.workers()) this.set({ worker: String(w.index) }, count(w.census));
        },
      });
    perWorker('kaskade_worker_routers', 'Routers per mediasoup worker', (c) => c.routers.size);
    perWorker('kaskade_worker_transports', 'Transports per mediasoup worker', (c) => c.transports.size);
    perWorker(
      'kaskade_worker_producers',
      'Producers per mediasoup worker (pipe copies included)',
      (c) => c.producers.size,
    );
    perWorker(
      'kaskade_worker_consumers',
      'Consumers per mediasoup worker (pipe sends included)',
      (c) => c.consumers.size,
    );
    // Every label value present from the start: dashboards and alerts see zeros, not gaps.
    const everyWorker = labelCombinations({ worker: options.workers().map((w) => String(w.index)) });
    const everyTransport = labelCombinations({ transport: TRANSPORTS });
    const everyFlow = labelCombinations({ direction: DIRECTIONS, transport: TRANSPORTS });
    this.#workerDeaths = preinitialisedCounter({
      name: 'kaskade_worker_deaths_total',
      help: 'mediasoup workers that died (each is replaced)',
      labelNames: ['worker'],
      registers,
      zeroed: everyWorker,
    });
    this.#cpuSeconds = preinitialisedCounter({
      name: 'kaskade_worker_cpu_seconds_total',
      help: 'CPU time of each mediasoup worker process, user plus system (getResourceUsage)',
      labelNames: ['worker'],
      registers,
      zeroed: everyWorker,
    });
    this.#bytes = preinitialisedCounter({
      name: 'kaskade_transport_bytes_total',
      help: 'Bytes received (in) and sent (out) over transports, by transport type',
      labelNames: ['direction', 'transport'],
      registers,
      zeroed: everyFlow,
    });
    this.#pipeBytes = new Counter({
      name: 'kaskade_pipe_bytes_total',
      help: 'Bytes sent over pipe links by source and destination region (counted by the sender)',
      labelNames: ['src_region', 'dst_region'],
      registers,
    });
    this.#pipePackets = new Counter({
      name: 'kaskade_pipe_packets_total',
      help: 'RTP packets sent over pipe links by source and destination region (counted by the sender)',
      labelNames: ['src_region', 'dst_region'],
      registers,
    });
    this.#feedback = preinitialisedCounter({
      name: 'kaskade_rtcp_feedback_total',
      help: 'RTCP feedback by type: direction in = sent by this node about streams it receives, out = received from viewers of streams it sends',
      labelNames: ['type', 'direction'],
      registers,
      zeroed: labelCombinations({ type: ['nack', 'pli', 'fir'], direction: DIRECTIONS }),
    });
    const scoreBuckets = [2, 4, 6, 7, 8, 9, 10];
    this.#producerScore = preinitialisedHistogram({
      name: 'kaskade_producer_score',
      help: 'mediasoup score (0..10) of each received stream (per encoding), per sample',
      labelNames: ['transport'],
      buckets: scoreBuckets,
      registers,
      zeroed: everyTransport,
    });
    this.#consumerScore = preinitialisedHistogram({
      name: 'kaskade_consumer_score',
      help: 'mediasoup score (0..10) of each sent stream, per sample',
      labelNames: ['transport'],
      buckets: scoreBuckets,
      registers,
      zeroed: everyTransport,
    });
    this.#loss = preinitialisedHistogram({
      name: 'kaskade_packet_loss_ratio',
      help: 'Fraction of packets lost per stream and sample: in = towards this node, out = at viewers (their receiver reports)',
      labelNames: ['direction', 'transport'],
      buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
      registers,
      zeroed: everyFlow,
    });
    this.#jitter = preinitialisedHistogram({
      name: 'kaskade_jitter_seconds',
      help: 'Interarrival jitter per stream and sample: in = measured here, out = reported by viewers',
      labelNames: ['direction', 'transport'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16],
      registers,
      zeroed: everyFlow,
    });
    this.#rtt = preinitialisedHistogram({
      name: 'kaskade_rtt_seconds',
      help: 'Round-trip time to viewers per sent stream and sample (from RTCP)',
      labelNames: ['transport'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6],
      registers,
      zeroed: everyTransport,
    });
    const metrics = this;
    new Gauge({
      name: 'kaskade_node_load_ratio',
      help: 'Load of this node, 0..1: the largest of worker CPU share, bandwidth share, consumer budget share and participant capacity share',
      registers,
      collect() {
        this.set(metrics.load);
      },
    });
    this.#loadComponents = preinitialisedGauge({
      name: 'kaskade_node_load_component_ratio',
      help: 'Each share the load ratio is the largest of',
      labelNames: ['component'],
      registers,
      zeroed: labelCombinations({ component: LOAD_COMPONENTS }),
    });
    new Gauge({
      name: 'kaskade_bitrate_bps',
      help: 'Bits per second received (in) and sent (out) over all transports, as of the last sampling round',
      labelNames: ['direction'],
      registers,
      collect() {
        this.set({ direction: 'in' }, metrics.bitrateBps.in);
        this.set({ direction: 'out' }, metrics.bitrateBps.out);
      },
    });
  }

  start(): void {
    this.#timer = setInterval(() => void this.sample(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  workerDied(index: number): void {
    this.#workerDeaths.inc({ worker: String(index) });
  }

  /** One sampling round; rounds never overlap (a slow one makes the next wait). */
  async sample(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await this.#round();
    } catch (err) {
      this.#options.logger.warn({ err }, 'metrics sampling round failed');
    } finally {
      this.#running = false;
    }
  }

  async #round(): Promise<void> {
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.#lastRoundAt) / 1000);
    this.#lastRoundAt = now;
    const workers = this.#options.workers();
    let cpu = 0;
    for (const { index, census } of workers) {
      const usage = await census.worker.getResourceUsage().catch(() => undefined);
      if (!usage) continue;
      // The first reading holds everything since the worker started: counted, but it says
      // nothing about the share of the last period.
      const first = !this.#last.has(census.worker);
      const used = this.#delta(census.worker, [(usage.ru_utime + usage.ru_stime) / 1000])[0]!;
      this.#cpuSeconds.inc({ worker: String(index) }, used);
      if (!first) cpu = Math.max(cpu, used / seconds);
    }
    const bytes = await this.#visit(workers);
    this.bitrateBps = { in: (bytes.in * 8) / seconds, out: (bytes.out * 8) / seconds };
    const shares: Record<string, number> = {
      cpu: Math.min(1, cpu),
      bandwidth: Math.max(this.bitrateBps.in, this.bitrateBps.out) / this.#options.maxBitrateBps,
      ...this.#options.loadShares(),
    };
    for (const [component, share] of Object.entries(shares)) this.#loadComponents.set({ component }, share);
    this.load = Math.max(0, ...Object.values(shares));
  }

  /**
   * Reads the stats of at most maxStatsPerRound transports, producers and consumers,
   * continuing where the last round stopped. Returns the bytes seen in and out.
   */
  async #visit(workers: readonly MeteredWorker[]): Promise<{ in: number; out: number }> {
    const items: (() => Promise<void>)[] = [];
    const bytes = { in: 0, out: 0 };
    // A link's layer shaping loops media through 127.0.0.1: neither traffic nor a viewer's quality.
    const counted = (t: types.Transport) => !isLoopback(t);
    for (const { census } of workers) {
      for (const t of census.transports) if (counted(t)) items.push(() => this.#transport(t, bytes));
      for (const [p, t] of census.producers) if (counted(t)) items.push(() => this.#producer(p, t));
      for (const [c, t] of census.consumers) if (counted(t)) items.push(() => this.#consumer(c, t));
    }
    const count = Math.min(items.length, this.#options.maxStatsPerRound);
    if (this.#cursor >= items.length) this.#cursor = 0;
    for (let i = 0; i < count; i++) {
      await items[(this.#cursor + i) % items.length]!().catch(() => undefined); // closed meanwhile
    }
    this.#cursor += count;
    // Only part of a large node was visited: scale its bytes to the whole for the bitrate.
    const scale = count > 0 && count < items.length ? items.length / count : 1;
    return { in: bytes.in * scale, out: bytes.out * scale };
  }

  async #transport(transport: types.Transport, total: { in: number; out: number }): Promise<void> {
    if (transport.closed) return;
    const [stats] = (await transport.getStats()) as { bytesReceived: number; bytesSent: number }[];
    if (!stats) return;
    const [received, sent] = this.#delta(transport, [stats.bytesReceived, stats.bytesSent]);
    const kind = transportLabel(transport);
    this.#bytes.inc({ direction: 'in', transport: kind }, received);
    this.#bytes.inc({ direction: 'out', transport: kind }, sent);
    total.in += received!;
    total.out += sent!;
    // Counted where sent only, so each hop is counted once.
    const remote = pipeRemoteRegion(transport); // undefined unless a pipe link
    if (remote) this.#pipeBytes.inc({ src_region: this.#options.region, dst_region: remote }, sent);
  }

  async #producer(producer: types.Producer, transport: types.Transport): Promise<void> {
    if (producer.closed) return;
    const stats = (await producer.getStats()) as StreamStats[];
    const clockRate = producer.rtpParameters.codecs[0]?.clockRate ?? 90000;
    this.#stream(producer, stats, 'in', transportLabel(transport), clockRate);
  }

  async #consumer(consumer: types.Consumer, transport: types.Transport): Promise<void> {
    if (consumer.closed) return;
    // A consumer's stats also hold its producer's (type inbound-rtp): those are counted with the producer.
    const stats = ((await consumer.getStats()) as StreamStats[]).filter((s) => s.type === 'outbound-rtp');
    const clockRate = consumer.rtpParameters.codecs[0]?.clockRate ?? 90000;
    const kind = transportLabel(transport);
    const packets = this.#stream(consumer, stats, 'out', kind, clockRate);
    const remote = pipeRemoteRegion(transport); // undefined unless a pipe link
    if (remote) this.#pipePackets.inc({ src_region: this.#options.region, dst_region: remote }, packets);
  }

  /** Counts feedback and observes quality of one producer's or consumer's streams; returns new packets. */
  #stream(
    owner: object,
    stats: StreamStats[],
    direction: TrafficDirection,
    transport: string,
    clockRate: number,
  ): number {
    const sum = (f: (s: StreamStats) => number) => stats.reduce((n, s) => n + f(s), 0);
    const [packets, nack, pli, fir] = this.#delta(owner, [
      sum((s) => s.packetCount),
      sum((s) => s.nackCount),
      sum((s) => s.pliCount),
      sum((s) => s.firCount),
    ]) as [number, number, number, number];
    const counts: Record<Feedback, number> = { nack, pli, fir };
    for (const [type, n] of Object.entries(counts)) this.#feedback.inc({ type, direction }, n);
    // Quality of idle streams (paused, not started) says nothing; it is observed while media flows.
    if (packets === 0) return 0;
    for (const s of stats) {
      if (direction === 'in') this.#producerScore.observe({ transport }, s.score);
      else this.#consumerScore.observe({ transport }, s.score);
      this.#loss.observe({ direction, transport }, s.fractionLost / 256);
      this.#jitter.observe({ direction, transport }, s.jitter / clockRate);
      if (direction === 'out' && s.roundTripTime) this.#rtt.observe({ transport }, s.roundTripTime / 1000);
    }
    return packets;
  }

  /** Differences to the last values read from `owner` (all of them the first time). */
  #delta(owner: object, values: number[]): number[] {
    const last = this.#last.get(owner);
    this.#last.set(owner, values);
    // A value that went down was reset (a replaced worker): count it from zero.
    return values.map((v, i) => (last && v >= last[i]! ? v - last[i]! : v));
  }
}

function transportLabel(transport: types.Transport): string {
  return transport.type === 'direct' ? 'plain' : transport.type;
}
