import type { types } from 'mediasoup';
import { LayerShaper, type LoopbackPair } from './LayerShaper.ts';

/** Loopback transports the shaping made: not network traffic, so the media metrics leave them out. */
const loopbacks = new WeakSet<types.Transport>();

/** Whether a transport is one of a link's loopback pair (layer shaping), not a path to anyone. */
export function isLoopback(transport: types.Transport): boolean {
  return loopbacks.has(transport);
}

/**
 * The layer shaping of one link: the pair of loopback PlainTransports on the link's
 * router that every shaped stream of the link crosses (made on the first, closed with
 * the link), and the shapers themselves. Its own rtcp-mux ports on 127.0.0.1, each end
 * connected to the other, so RTP goes one way and RTCP (receiver reports, key-frame
 * requests) the other.
 */
export class LinkShaping {
  readonly #router: types.Router;
  readonly #keyFrameRequestDelay: number;
  #pair: Promise<LoopbackPair> | undefined;
  #closed = false;

  constructor(router: types.Router, keyFrameRequestDelay: number) {
    this.#router = router;
    this.#keyFrameRequestDelay = keyFrameRequestDelay;
  }

  /** A shaper of `source` on this link (every layer forwarded until a demand says otherwise). */
  async shape(source: types.Producer): Promise<LayerShaper> {
    if (!this.#pair) {
      const opening = this.#open();
      this.#pair = opening;
      // A pair that failed to open is tried again by the next stream.
      opening.catch(() => {
        if (this.#pair === opening) this.#pair = undefined;
      });
    }
    const pair = await this.#pair;
    const shaper = await LayerShaper.create(
      pair,
      source,
      this.#router.rtpCapabilities,
      this.#keyFrameRequestDelay,
    );
    if (this.#closed) shaper.close();
    return shaper;
  }

  /** Closes the loopback pair, and with it every shaper of the link. */
  close(): void {
    this.#closed = true;
    void this.#pair?.then(
      (pair) => {
        pair.out.close();
        pair.in.close();
      },
      () => undefined,
    );
  }

  async #open(): Promise<LoopbackPair> {
    const make = async () => {
      const transport = await this.#router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
        rtcpMux: true,
        comedia: false,
      });
      loopbacks.add(transport);
      return transport;
    };
    const out = await make();
    try {
      const into = await make();
      await out.connect({ ip: '127.0.0.1', port: into.tuple.localPort });
      await into.connect({ ip: '127.0.0.1', port: out.tuple.localPort });
      if (this.#closed) into.close();
      return { out, in: into };
    } catch (error) {
      out.close();
      throw error;
    } finally {
      if (this.#closed) out.close();
    }
  }
}
