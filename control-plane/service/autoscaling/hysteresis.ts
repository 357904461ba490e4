import type { AutoscaleSettings, SeriesState } from './types.ts';

/**
 * The desired count from the count wanted now: a rise at once; a fall only to the
 * highest count wanted over the last stabilization window (so a noisy load never makes
 * it flap), once that window has been watched whole, and by at most `scaleDownStep` per
 * decision.
 */
export function stabilize(
  state: SeriesState | undefined,
  wanted: number,
  now: number,
  settings: Pick<AutoscaleSettings, 'stabilizationMs' | 'scaleDownStep'>,
): { desired: number; history: SeriesState['wanted']; reason?: string } {
  // Only the counts that may still be the window's highest are kept (each higher than
  // every later one): the first is the highest, and the list stays short.
  const history = (state?.wanted ?? []).filter((h) => h.at >= now - settings.stabilizationMs);
  while (history.length > 0 && history.at(-1)!.count <= wanted) history.pop();
  history.push({ at: now, count: wanted });
  const previous = state?.desired;
  if (previous === undefined || wanted >= previous) return { desired: wanted, history };
  const watchedWhole = (state?.since ?? now) <= now - settings.stabilizationMs;
  const highest = history[0]!.count;
  if (!watchedWhole || highest >= previous)
    return {
      desired: previous,
      history,
      reason: `held at ${previous}: ${wanted} wanted, but not for ${settings.stabilizationMs / 1000} s yet`,
    };
  const desired = Math.max(highest, previous - settings.scaleDownStep);
  return {
    desired,
    history,
    reason: `falls from ${previous}: at most ${highest} wanted for ${settings.stabilizationMs / 1000} s, by at most ${settings.scaleDownStep} a step`,
  };
}
