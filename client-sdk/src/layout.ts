/**
 * Where a meeting UI shows each remote participant, and the last-N that matches it: a
 * stage for the most relevant ones and a paginated gallery for the rest. The ranking is
 * the edge's own last-N order (pinned, then the room's recent speakers, then the others),
 * so the tiles on screen are the ones whose video the edge forwards. Pure.
 */

export interface MeetingLayoutInput {
  /** The remote participants, in the room's order (e.g. the keys of `room.participants`). */
  participants: readonly string[];
  /** `room.speakerOrder`: recent speakers, most relevant first (may name us or those gone). */
  speakerOrder: readonly string[];
  /** `room.pinned`. */
  pinned: readonly string[];
  /** Places on the stage (default 1). */
  stageSize?: number;
  /** Gallery tiles per page (default 9). */
  pageSize?: number;
  /** The gallery page shown, from 0 (clamped to the pages there are). */
  page?: number;
}

export interface MeetingLayout {
  /** On the stage: pinned participants first, else the current speaker(s). */
  stage: string[];
  /** The gallery tiles of the page shown. */
  gallery: string[];
  /** The page shown (clamped) and how many pages there are (at least 1). */
  page: number;
  pages: number;
  /**
   * The last-N that forwards every video on screen: the stage and the visible gallery
   * tiles, and on a later page the tiles of the pages before (the edge forwards by the
   * same ranking, so it cannot skip them).
   */
  lastN: number;
}

export function meetingLayout({
  participants,
  speakerOrder,
  pinned,
  stageSize = 1,
  pageSize = 9,
  page = 0,
}: MeetingLayoutInput): MeetingLayout {
  if (!(stageSize >= 0 && pageSize >= 1)) throw new RangeError('stageSize >= 0 and pageSize >= 1');
  const present = new Set(participants);
  const ranking = [...new Set([...pinned, ...speakerOrder, ...participants])].filter((id) => present.has(id));
  const stage = ranking.slice(0, stageSize);
  const rest = ranking.slice(stage.length);
  const pages = Math.max(1, Math.ceil(rest.length / pageSize));
  const shown = Math.min(Math.max(0, Math.floor(page)), pages - 1);
  const gallery = rest.slice(shown * pageSize, (shown + 1) * pageSize);
  return { stage, gallery, page: shown, pages, lastN: stage.length + shown * pageSize + gallery.length };
}
