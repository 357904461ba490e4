import type { SpeakerLevel } from '@kaskade/protocol';
import { MAX_SPEAKER_LEVELS } from '@kaskade/protocol';
import type { types } from 'mediasoup';

/**
 * How much longer the sparse meter averages than the quick one. mediasoup's
 * AudioLevelObserver ignores a producer with fewer than 10 packets in an interval: at
 * 250 ms that is 80 % of a 20 ms-ptime stream, so a microphone sending 40 ms packets
 * (25/s), or one losing a quarter of its packets on the way in (an overloaded link or
 * edge), is never heard at all. Over four intervals (1 s by default) 10 packets is a
 * 100 ms ptime, or 80 % loss at 20 ms.
 */
const SPARSE_FACTOR = 4;
/** The longest interval mediasoup's observer takes (it clamps longer ones). */
const MAX_OBSERVER_INTERVAL_MS = 5000;

/**
 * The levels of the microphones on one router, as two audio level observers measure
 * them: a quick one (every `intervalMs`) for ordinary streams, and a sparse one
 * (SPARSE_FACTOR times longer) for microphones whose packets are too few for the quick
 * one. A sparse reading counts only for a microphone the quick meter has not heard in the
 * window it averages, so a speaker who just fell silent is not kept speaking by the
 * longer average. Each report is what is heard now, loudest first ([] once on silence).
 */
export class MicrophoneLevels {
  readonly #quick: types.AudioLevelObserver;
  readonly #sparse: types.AudioLevelObserver;
  readonly #sparseWindowMs: number;
  /** The quick meter's last report (empty: silence there). */
  #quickLevels: SpeakerLevel[] = [];
  /** The sparse meter's last report, and when it came. */
  #sparseLevels: SpeakerLevel[] = [];
  #sparseAt = 0;
  /** When the quick meter last heard each microphone. */
  readonly #quickHeardAt = new Map<string, number>();
  #lastReportEmpty = true;

  private constructor(
    quick: types.AudioLevelObserver,
    sparse: types.AudioLevelObserver,
    sparseWindowMs: number,
    report: (levels: SpeakerLevel[]) => void,
  ) {
    this.#quick = quick;
    this.#sparse = sparse;
    this.#sparseWindowMs = sparseWindowMs;
    const levelsOf = (volumes: types.AudioLevelObserverVolume[]) =>
      volumes.map(({ producer, volume }) => ({ producerId: producer.id, level: volume }));
    const emit = () => {
      const levels = this.#current();
      if (levels.length === 0 && this.#lastReportEmpty) return;
      this.#lastReportEmpty = levels.length === 0;
      report(levels);
    };
    quick.on('volumes', (volumes) => {
      this.#quickLevels = levelsOf(volumes);
      const now = performance.now();
      for (const { producerId } of this.#quickLevels) this.#quickHeardAt.set(producerId, now);
      this.#lastReportEmpty = false; // a quick report always goes out (the others rely on its rhythm)
      report(this.#current());
    });
    quick.on('silence', () => {
      this.#quickLevels = [];
      emit();
    });
    // While the quick meter reports, sparse readings ride along on its reports; in its
    // silence, they go out on their own.
    sparse.on('volumes', (volumes) => {
      this.#sparseLevels = levelsOf(volumes);
      this.#sparseAt = performance.now();
      if (this.#quickLevels.length === 0) emit();
    });
    sparse.on('silence', () => {
      this.#sparseLevels = [];
      if (this.#quickLevels.length === 0) emit();
    });
  }

  /** How long the sparse meter averages over. */
  static windowMs(intervalMs: number): number {
    return Math.min(MAX_OBSERVER_INTERVAL_MS, SPARSE_FACTOR * intervalMs);
  }

  /** Both meters on `router` (they close with it); `report` hears every reading worth telling. */
  static async create(
    router: types.Router,
    { intervalMs, thresholdDbov }: { intervalMs: number; thresholdDbov: number },
    report: (levels: SpeakerLevel[]) => void,
  ): Promise<MicrophoneLevels> {
    const meter = (interval: number) =>
      router.createAudioLevelObserver({ maxEntries: MAX_SPEAKER_LEVELS, threshold: thresholdDbov, interval });
    const sparseWindowMs = MicrophoneLevels.windowMs(intervalMs);
    const [quick, sparse] = await Promise.all([meter(intervalMs), meter(sparseWindowMs)]);
    return new MicrophoneLevels(quick, sparse, sparseWindowMs, report);
  }

  /** Measures a producer of the router from now on. */
  async add(producerId: string): Promise<void> {
    await Promise.all([this.#quick.addProducer({ producerId }), this.#sparse.addProducer({ producerId })]);
  }

  /** What is heard now: the quick readings, and sparse ones of microphones the quick meter missed. */
  #current(): SpeakerLevel[] {
    // A sparse reading averages the window before it: one the quick meter heard in that
    // window is its stream's past (a speaker who just stopped), not a sparse stream.
    const windowStart = this.#sparseAt - this.#sparseWindowMs;
    for (const [producerId, at] of this.#quickHeardAt)
      if (at < windowStart) this.#quickHeardAt.delete(producerId);
    const sparseOnly = this.#sparseLevels.filter(({ producerId }) => !this.#quickHeardAt.has(producerId));
    return [...this.#quickLevels, ...sparseOnly]
      .sort((a, b) => b.level - a.level)
      .slice(0, MAX_SPEAKER_LEVELS);
  }
}
