import { type Conference, type ConferenceInput, conference } from './conference.ts';
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
}

/** The whole model: media sizing and the tree, then the bus and the directory, then the limits. */
export function capacityModel(input: ConferenceInput, figures: Figures = figureValues()): CapacityResult {
  const c = conference(input); // a full Conference passes through unchanged
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
