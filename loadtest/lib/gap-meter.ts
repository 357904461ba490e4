import { percentile } from './cpu.ts';

/** A silence longer than this is a gap a viewer notices (a frame and more lost). */
export const NOTICEABLE_GAP_MS = 100;

/**
 * One received stream's packet arrivals, however many consumers (or bots, after a
 * rejoin) carry it: the longest silence inside the current window, clipped to it.
 * Times are performance.now() milliseconds, given by the caller.
 */
export class GapTrack {
  #last: number | undefined;
  #windowStart = 0;
  #maxGap = 0;
  /** Arrival of the packet that ended the first noticeable gap (receiving again after the fault). */
  #firstGapEnd: number | undefined;

  /** The last packet's arrival. */
  get last(): number | undefined {
    return this.#last;
  }

  packet(at: number): void {
    if (this.#last !== undefined && at >= this.#windowStart) {
      const gap = at - Math.max(this.#last, this.#windowStart);
      if (gap > this.#maxGap) this.#maxGap = gap;
      if (gap > NOTICEABLE_GAP_MS) this.#firstGapEnd ??= at;
    }
    this.#last = at;
  }

  window(start: number): void {
    this.#windowStart = start;
    this.#maxGap = 0;
    this.#firstGapEnd = undefined;
  }

  /**
   * The longest gap in the window so far, a silence still going on at `end` included; and
   * when the first noticeable gap ended (undefined while the stream is silent since the window began).
   */
  read(end: number): { maxGapMs: number; endedAt: number | undefined } {
    const silentSince = Math.max(this.#last ?? this.#windowStart, this.#windowStart);
    const open = end - silentSince;
    const maxGapMs = Math.max(this.#maxGap, open);
    return {
      maxGapMs,
      endedAt:
        open > NOTICEABLE_GAP_MS && this.#firstGapEnd === undefined ? undefined : (this.#firstGapEnd ?? end),
    };
  }
}

export interface ViewerGaps {
  viewer: string;
  /** The longest silence of any of the viewer's streams in the window. */
  maxGapMs: number;
  /**
   * From the window's start (the fault) until every stream of the viewer that had a
   * noticeable gap received again after its first one; 0 without such a gap; null while
   * one has been silent since the fault.
   */
  receivingAgainMs: number | null;
}

/** Per viewer, the tracks of the streams it receives; windows open and close together. */
export class GapMeter {
  readonly #tracks = new Map<string, GapTrack[]>();
  #windowStart = 0;

  /** A track for one more stream of `viewer`. */
  track(viewer: string): GapTrack {
    const track = new GapTrack();
    track.window(this.#windowStart);
    const tracks = this.#tracks.get(viewer) ?? [];
    tracks.push(track);
    this.#tracks.set(viewer, tracks);
    return track;
  }

  window(start: number): void {
    this.#windowStart = start;
    for (const tracks of this.#tracks.values()) for (const t of tracks) t.window(start);
  }

  read(end: number): ViewerGaps[] {
    return [...this.#tracks].map(([viewer, tracks]) => {
      const reads = tracks.map((t) => t.read(end));
      const noticed = reads.filter((r) => r.maxGapMs > NOTICEABLE_GAP_MS);
      return {
        viewer,
        maxGapMs: Math.max(0, ...reads.map((r) => r.maxGapMs)),
        receivingAgainMs: noticed.some((r) => r.endedAt === undefined)
          ? null
          : Math.max(0, ...noticed.map((r) => r.endedAt! - this.#windowStart)),
      };
    });
  }
}

export interface GapStats {
  viewers: number;
  p50GapMs: number | null;
  p95GapMs: number | null;
  /** The worst gap of any viewer in the group (e.g. `bystanders.maxGapMs`). */
  maxGapMs: number | null;
  /** Viewers with any gap over NOTICEABLE_GAP_MS. */
  over100Ms: number;
  /** Of the viewers with a noticeable gap: time from the fault until they received again. */
  receivingAgainMs: { p50: number | null; p95: number | null; max: number | null };
  /** Viewers with a stream silent from the fault to the end of the window. */
  notReceiving: number;
}

export function gapStats(gaps: ViewerGaps[]): GapStats {
  const round = (v: number) => (Number.isFinite(v) ? Math.round(v) : null);
  const max = gaps.map((g) => g.maxGapMs);
  const again = gaps
    .filter((g) => g.maxGapMs > NOTICEABLE_GAP_MS && g.receivingAgainMs !== null)
    .map((g) => g.receivingAgainMs!);
  return {
    viewers: gaps.length,
    p50GapMs: round(percentile(max, 50)),
    p95GapMs: round(percentile(max, 95)),
    maxGapMs: round(max.length ? Math.max(...max) : Number.NaN),
    over100Ms: max.filter((m) => m > NOTICEABLE_GAP_MS).length,
    receivingAgainMs: {
      p50: round(percentile(again, 50)),
      p95: round(percentile(again, 95)),
      max: round(again.length ? Math.max(...again) : Number.NaN),
    },
    notReceiving: gaps.filter((g) => g.receivingAgainMs === null).length,
  };
}
