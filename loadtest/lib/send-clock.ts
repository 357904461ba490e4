/**
 * One timer per period for every sender of the process. A meeting benchmark runs a
 * hundred recorded senders in one process: with timers of their own they would be three
 * hundred timers and as many wake-ups per period; here one timer per period serves all.
 * The senders are spread over SLOTS phases of the period, as independent browsers would
 * be: a hundred frames sent in the same instant would reach the SFU's pipe sockets as
 * one burst larger than their receive buffers, a loss no real meeting has.
 */
const SLOTS = 8;

interface Clock {
  slots: Set<() => void>[];
  timer: NodeJS.Timeout;
  next: number;
  size: number;
}

const clocks = new Map<number, Clock>();

/** Calls `tick` every `periodMs`, in a phase of the period shared with other senders; returns what stops it. */
export function everyPeriod(periodMs: number, tick: () => void): () => void {
  let clock = clocks.get(periodMs);
  if (!clock) {
    const slots = Array.from({ length: SLOTS }, () => new Set<() => void>());
    // Phases are counted from the start, not from timer to timer: the rate stays exact
    // however late a timer fires (a late one catches up, at most one period).
    const step = periodMs / SLOTS;
    const start = performance.now();
    let done = 0;
    const timer = setInterval(() => {
      const due = Math.floor((performance.now() - start) / step);
      done = Math.max(done, due - SLOTS);
      for (; done <= due; done++) for (const t of slots[done % SLOTS]!) t();
    }, step);
    clock = { slots, timer, next: 0, size: 0 };
    clocks.set(periodMs, clock);
  }
  const shared = clock;
  const slot = shared.slots[shared.next]!;
  shared.next = (shared.next + 1) % SLOTS;
  slot.add(tick);
  shared.size++;
  return () => {
    if (!slot.delete(tick)) return;
    shared.size--;
    if (shared.size > 0 || clocks.get(periodMs) !== shared) return;
    clearInterval(shared.timer);
    clocks.delete(periodMs);
  };
}
