/**
 * Make-before-break switching of a remote stream to a new consumer: the new consumer
 * takes over once it really receives (a decoded video frame, received audio), so the
 * picture or sound never goes blank in between. Pure logic apart from the stats call.
 */

/** Whether a receiver's stats say media arrives: a decoded frame for video, samples or packets for audio. */
export function isReceiving(report: Iterable<Record<string, unknown>>, kind: 'audio' | 'video'): boolean {
  for (const stats of report) {
    if (stats.type !== 'inbound-rtp') continue;
    if (kind === 'video' && Number(stats.framesDecoded ?? 0) > 0) return true;
    if (
      kind === 'audio' &&
      (Number(stats.totalSamplesReceived ?? 0) > 0 || Number(stats.packetsReceived ?? 0) > 0)
    )
      return true;
  }
  return false;
}

export interface WaitOptions {
  /** Between two stats polls (default 50 ms). */
  intervalMs?: number;
  /** Switch anyway after this long (default 2000 ms): a stream that never starts must not keep the old one forever. */
  boundMs?: number;
  /** Stop waiting (the switch was superseded or the room closed). */
  cancelled?: () => boolean;
}

/** Resolves true once `getStats` shows media arriving, false at the bound (or when cancelled). */
export async function waitUntilReceiving(
  getStats: () => Promise<Iterable<Record<string, unknown>>>,
  kind: 'audio' | 'video',
  { intervalMs = 50, boundMs = 2000, cancelled = () => false }: WaitOptions = {},
): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (cancelled()) return false;
    const report = await getStats().catch(() => [] as Iterable<Record<string, unknown>>);
    if (isReceiving(statsValues(report), kind)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** An RTCStatsReport is a map of stats objects; a plain iterable of them is taken as is. */
function statsValues(report: Iterable<Record<string, unknown>>): Iterable<Record<string, unknown>> {
  const values = (report as { values?: () => Iterable<Record<string, unknown>> }).values;
  return typeof values === 'function' ? values.call(report) : report;
}

/** The key under which a remote stream stays the same RemoteTrack: its participant and source. */
export function streamKey(stream: { participantId: string; source: string }): string {
  return `${stream.participantId}/${stream.source}`;
}

/**
 * The newest stream of each key, in the order given (the edge lists streams oldest first): a
 * publisher that moved has its old and new stream side by side for a moment; the new one counts.
 */
export function newestByKey<S extends { participantId: string; source: string }>(
  streams: readonly S[],
): Map<string, S> {
  return new Map(streams.map((s) => [streamKey(s), s]));
}
