import { labelCombinations, preinitialisedCounter } from '@kaskade/node-toolkit';
import { ErrorCodes, KaskadeError } from '@kaskade/protocol';
import { type Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LinkInfo } from './types.ts';

/**
 * Metrics of the pipe machinery (edges and relays): links open by remote region,
 * streams piped, simulcast layers they forward or hold back, how long a new copy takes to set up and why setups fail. Bytes and
 * packets over links are counted by MediaMetrics' sampling loop.
 */
export class CascadeMetrics {
  readonly #setupSeconds: Histogram<'upstream_region'>;
  readonly #setupFailures: Counter<'reason' | 'upstream_region'>;

  constructor(registry: Registry, links: () => readonly LinkInfo[]) {
    const registers = [registry];
    new Gauge({
      name: 'kaskade_pipe_links',
      help: 'Pipe links open on this node, by the region of the node at the other end',
      labelNames: ['remote_region'],
      registers,
      collect() {
        this.reset();
        for (const link of links()) this.inc({ remote_region: link.remoteRegion });
      },
    });
    new Gauge({
      name: 'kaskade_pipe_streams',
      help: 'Streams carried by pipe links: in = copies received from other nodes, out = sent to them',
      labelNames: ['direction'],
      registers,
      collect() {
        const all = links();
        this.set(
          { direction: 'in' },
          all.reduce((n, l) => n + l.copies, 0),
        );
        this.set(
          { direction: 'out' },
          all.reduce((n, l) => n + l.sends, 0),
        );
      },
    });
    new Gauge({
      name: 'kaskade_pipe_shaped_layers',
      help: 'Simulcast layers of streams sent over pipe links: forwarding = some viewer downstream wants them, paused = held back',
      labelNames: ['state'],
      registers,
      collect() {
        const all = links();
        this.set(
          { state: 'forwarding' },
          all.reduce((n, l) => n + l.shapedLayers.forwarding, 0),
        );
        this.set(
          { state: 'paused' },
          all.reduce((n, l) => n + l.shapedLayers.paused, 0),
        );
      },
    });
    this.#setupSeconds = new Histogram({
      name: 'kaskade_pipe_setup_seconds',
      help: 'Time to set up a copy of a remote stream (link if new, consume upstream, produce here), by the region it comes from',
      labelNames: ['upstream_region'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#setupFailures = preinitialisedCounter({
      name: 'kaskade_pipe_setup_failures_total',
      help: 'Copies of remote streams that could not be set up, by error code and the region they were to come from',
      labelNames: ['reason', 'upstream_region'],
      registers,
      zeroed: labelCombinations({
        reason: ErrorCodes.map((code) => code.toLowerCase()),
        upstream_region: ['unknown'],
      }),
    });
  }

  /**
   * Times one setup and counts it as a failure if it throws. The upstream region is
   * asked for at the end: a new link learns it during the setup ('unknown' if never).
   */
  async timeSetup<T>(setup: Promise<T>, upstreamRegion: () => string | undefined): Promise<T> {
    const started = performance.now();
    try {
      const result = await setup;
      const upstream_region = upstreamRegion() ?? 'unknown';
      this.#setupSeconds.observe({ upstream_region }, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      const code = error instanceof KaskadeError ? error.code : 'INTERNAL';
      this.#setupFailures.inc({ reason: code.toLowerCase(), upstream_region: upstreamRegion() ?? 'unknown' });
      throw error;
    }
  }
}
