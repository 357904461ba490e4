import type { PipeLink } from './PipeLink.ts';
import { SilenceDetector } from './SilenceDetector.ts';

export interface LinkWatchOptions {
  silenceMs: number;
  /** The links to look at now (those that hold copies). */
  links: () => PipeLink[];
  /** Whether any copy on the link should be flowing now (not paused at its origin, wanted here). */
  due: (link: PipeLink) => boolean;
  tell: (verdict: 'suspect' | 'recovered', link: PipeLink) => void;
}

/**
 * Looks at the bytes each link received, four times per silence period (a silent
 * link is named within 1.25 x silenceMs), and tells when one goes silent or comes
 * back. Transport stats count RTP and RTCP alike, so a link is silent only when its
 * upstream sends nothing at all: the sign of a dead node or a cut path, known long
 * before a heartbeat times out.
 */
export class LinkWatch {
  readonly #options: LinkWatchOptions;
  readonly #detector: SilenceDetector<PipeLink>;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(options: LinkWatchOptions) {
    this.#options = options;
    this.#detector = new SilenceDetector(options.silenceMs);
  }

  start(): void {
    const every = Math.max(20, Math.min(250, Math.floor(this.#options.silenceMs / 4)));
    this.#timer = setInterval(() => void this.#round(), every);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #round(): Promise<void> {
    if (this.#busy) return; // a slow round (busy worker) is not overlapped
    this.#busy = true;
    try {
      const links = this.#options.links();
      this.#detector.retain(new Set(links));
      await Promise.all(links.map((l) => this.#look(l)));
    } finally {
      this.#busy = false;
    }
  }

  async #look(link: PipeLink): Promise<void> {
    const bytes = await link.bytesReceived();
    if (bytes === undefined || link.closed) return;
    const verdict = this.#detector.observe(link, performance.now(), bytes, this.#options.due(link));
    if (verdict) this.#options.tell(verdict, link);
  }
}
