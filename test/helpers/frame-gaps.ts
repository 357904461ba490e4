import type { Page } from 'puppeteer-core';
import { harness } from './media-checks.ts';

export interface FrameGaps {
  /** The longest time without a new decoded frame on any remote video (ms). */
  maxGapMs: number;
  /** When that gap ended (performance.now() of this process): the first new frame after it. */
  resumedAt: number;
  samples: number;
}

/**
 * Samples a page's remote videos' decoded frames as fast as the page answers (from here:
 * page timers of a background tab are throttled) and keeps the longest time without a
 * new frame. A consumer switch starts its count again: a smaller non-zero count is progress.
 */
export class FrameGapMeter {
  #maxGapMs = 0;
  #resumedAt = 0;
  #samples = 0;
  #running = true;
  readonly #done: Promise<void>;

  constructor(page: Page) {
    const last = new Map<string, number>();
    const progressAt = new Map<string, number>();
    this.#done = (async () => {
      while (this.#running) {
        const frames = await harness<{ id: string; frames: number }[]>(page, 'videoFrames').catch(() => []);
        const now = performance.now();
        for (const { id, frames: n } of frames) {
          const before = last.get(id);
          const since = progressAt.get(id) ?? now;
          if (before === undefined || n > before || (n < before && n > 0)) {
            if (now - since > this.#maxGapMs) this.#resumedAt = now;
            progressAt.set(id, now);
          }
          last.set(id, n);
          this.#maxGapMs = Math.max(this.#maxGapMs, now - since);
          this.#samples++;
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
  }

  async stop(): Promise<FrameGaps> {
    this.#running = false;
    await this.#done;
    return { maxGapMs: Math.round(this.#maxGapMs), resumedAt: this.#resumedAt, samples: this.#samples };
  }
}
