export type SilenceVerdict = 'suspect' | 'recovered' | undefined;

interface LinkState {
  bytes: number;
  /** When the silence being measured began: the last progress, or the last time nothing was due. */
  since: number;
  suspect: boolean;
}

/**
 * Decides from successive byte counts whether a link went silent. Pure (time comes in
 * with each observation) so its rules are unit-tested: a link is suspect once it
 * received nothing for `silenceMs` while something should have been flowing over it;
 * time while nothing was due (every copy paused at its origin or unwanted here) does
 * not count, so pausing a stream never makes its upstream suspect. It recovers on
 * the first byte that arrives again.
 */
export class SilenceDetector<K = string> {
  readonly #silenceMs: number;
  readonly #links = new Map<K, LinkState>();

  constructor(silenceMs: number) {
    this.#silenceMs = silenceMs;
  }

  /**
   * One observation of link `id`: `bytes` received so far, `due` whether any copy on it
   * should be flowing now. Returns what changed, if anything.
   */
  observe(id: K, now: number, bytes: number, due: boolean): SilenceVerdict {
    const state = this.#links.get(id);
    if (!state) {
      this.#links.set(id, { bytes, since: now, suspect: false });
      return undefined;
    }
    if (bytes !== state.bytes) {
      state.bytes = bytes;
      state.since = now;
      if (!state.suspect) return undefined;
      state.suspect = false;
      return 'recovered';
    }
    if (!due) {
      state.since = now;
      return undefined;
    }
    if (state.suspect || now - state.since < this.#silenceMs) return undefined;
    state.suspect = true;
    return 'suspect';
  }

  isSuspect(id: K): boolean {
    return this.#links.get(id)?.suspect ?? false;
  }

  /** The link is gone; a new one under the same name starts afresh. */
  forget(id: K): void {
    this.#links.delete(id);
  }

  /** Drops links not in `present` (closed since the last round). */
  retain(present: ReadonlySet<K>): void {
    for (const id of this.#links.keys()) if (!present.has(id)) this.#links.delete(id);
  }
}
