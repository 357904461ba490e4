import type { DemandSample } from './types.ts';

/**
 * The demand a new node would meet once ready: the demand now plus its rise over the
 * last `horizonMs` (least-squares slope of the samples in that window), projected
 * `horizonMs` ahead. A falling trend projects nothing lower: falls wait for the
 * stabilization window instead. Fewer than three samples, or samples spanning less than
 * a third of the window, say nothing yet.
 */
export function projectedDemand(
  samples: readonly DemandSample[],
  now: number,
  horizonMs: number,
): { demand: number; slopePerSecond: number } {
  const current = samples.at(-1)?.demand ?? 0;
  const recent = samples.filter((s) => s.at >= now - horizonMs);
  if (recent.length < 3 || recent.at(-1)!.at - recent[0]!.at < horizonMs / 3)
    return { demand: current, slopePerSecond: 0 };
  const meanT = recent.reduce((s, p) => s + p.at, 0) / recent.length;
  const meanD = recent.reduce((s, p) => s + p.demand, 0) / recent.length;
  let covariance = 0;
  let variance = 0;
  for (const p of recent) {
    covariance += (p.at - meanT) * (p.demand - meanD);
    variance += (p.at - meanT) ** 2;
  }
  const slopePerMs = variance > 0 ? covariance / variance : 0;
  if (slopePerMs <= 0) return { demand: current, slopePerSecond: slopePerMs * 1000 };
  return { demand: current + slopePerMs * horizonMs, slopePerSecond: slopePerMs * 1000 };
}

/** Samples no older than `windowMs`, with `sample` added (bounded: one per decision). */
export function keepWindow<T extends { at: number }>(
  samples: readonly T[],
  sample: T,
  windowMs: number,
): T[] {
  return [...samples.filter((s) => s.at >= sample.at - windowMs), sample];
}
