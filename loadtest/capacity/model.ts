import { type Conference, type ConferenceInput, conference, participantsOf } from './conference.ts';
import { type ControlResult, controlModel } from './control.ts';
import { type Figures, figureValues } from './figures.ts';
import { type Limit, limitsOf } from './limits.ts';
import { type MediaResult, mediaModel } from './media.ts';

export interface CapacityResult {
  conference: Conference;
  media: MediaResult;
  control: ControlResult;
  /** Every limit, the first to bind first. */
  limits: Limit[];
  /** The limit hit first, and whether the conference fits at all. */
  firstLimit: Limit;
  fits: boolean;
  /** The largest audience of this conference's shape (regions scaled alike, the same ramp time) that fits. */
  largestFitting: number;
}

type Evaluation = Omit<CapacityResult, 'largestFitting'>;

/** Media sizing and the tree, then the bus and the directory, then the limits. */
function evaluate(c: Conference, figures: Figures): Evaluation {
  const media = mediaModel(c, figures);
  const control = controlModel(c, figures, media);
  const limits = limitsOf(c, figures, media, control);
  return {
    conference: c,
    media,
    control,
    limits,
    firstLimit: limits[0]!,
    fits: limits.every((l) => l.ratio <= 1),
  };
}

/** The conference with `n` participants in its regions' proportions (a meeting's publishers scaled alike). */
export function scaledTo(c: Conference, n: number): Conference {
  const k = n / Math.max(1, participantsOf(c));
  const regions = Object.fromEntries(Object.entries(c.regions).map(([r, p]) => [r, Math.round(p * k)]));
  if (c.kind === 'lecture') return { ...c, regions };
  return {
    ...c,
    regions,
    microphones: Math.round(c.microphones * k),
    cameras: Math.max(1, Math.round(c.cameras * k)),
  };
}

/** Binary search (to 0.1 %) for the most participants with every limit holding; 0 if not even one fits. */
function largestThatFits(c: Conference, figures: Figures): number {
  const fits = (n: number) => evaluate(scaledTo(c, n), figures).fits;
  if (!fits(Object.keys(c.regions).length)) return 0;
  let lo = Object.keys(c.regions).length;
  let hi = Math.max(lo + 1, participantsOf(c));
  while (fits(hi) && hi < 1e9) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > Math.max(1, lo / 1000)) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function capacityModel(input: ConferenceInput, figures: Figures = figureValues()): CapacityResult {
  const c = conference(input); // a full Conference passes through unchanged
  return { ...evaluate(c, figures), largestFitting: largestThatFits(c, figures) };
}
