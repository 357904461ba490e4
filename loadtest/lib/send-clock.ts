/**
 * One timer per period for every sender of the process. A meeting benchmark runs a
 * hundred recorded senders in one process: with timers of their own they would be three
 * hundred timers and as many wake-ups per period; on a shared one, one wake-up sends
 * every sender's frame.
 */
const clocks = new Map<number, { ticks: Set<() => void>; timer: NodeJS.Timeout }>();

/** Calls `tick` every `periodMs` with the other senders of that period; returns what stops it. */
export function everyPeriod(periodMs: number, tick: () => void): () => void {
  let clock = clocks.get(periodMs);
  if (!clock) {
    const ticks = new Set<() => void>();
    const timer = setInterval(() => {
      for (const tick of ticks) tick();
    }, periodMs);
    clock = { ticks, timer };
    clocks.set(periodMs, clock);
  }
  const shared = clock;
  shared.ticks.add(tick);
  return () => {
    shared.ticks.delete(tick);
    if (shared.ticks.size > 0 || clocks.get(periodMs) !== shared) return;
    clearInterval(shared.timer);
    clocks.delete(periodMs);
  };
}
