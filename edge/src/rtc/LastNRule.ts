/**
 * Which remote videos a viewer receives under last-N. Pure: the same streams, order,
 * pins and N give the same answer, so it is unit-tested alone and LastN.ts applies it.
 */

/** A remote video the viewer holds a consumer of. */
export interface VideoCandidate {
  participantId: string;
  /** 'screen' is always forwarded; any other video competes for the N places. */
  source: string;
}

export interface LastNChoice {
  /** At most this many remote participants' cameras are forwarded; null: all of them. */
  n: number | null;
  /** Always forwarded, ahead of speakers; they take places of the N first. */
  pinned: readonly string[];
}

/** Every video on: what a viewer that never asked for last-N gets. */
export const ALL_VIDEO: LastNChoice = { n: null, pinned: [] };

/**
 * The participants whose camera the viewer receives: pinned participants first (all of
 * them, even past N), then the room's recent speakers in order, then the others in the
 * order of `candidates` (the order the viewer subscribed, so the fill is stable), until N
 * participants have a place. Screen shares do not take a place: they are always on.
 */
export function lastNParticipants(
  candidates: readonly VideoCandidate[],
  speakerOrder: readonly string[],
  choice: LastNChoice,
): Set<string> {
  const competing = new Set(candidates.filter((c) => c.source !== 'screen').map((c) => c.participantId));
  if (choice.n === null) return competing;
  const chosen = new Set<string>();
  for (const id of choice.pinned) if (competing.has(id)) chosen.add(id);
  for (const id of [...speakerOrder, ...competing]) {
    if (chosen.size >= choice.n) break;
    if (competing.has(id)) chosen.add(id);
  }
  return chosen;
}

/** Whether the viewer receives this video under its last-N choice. */
export function inLastN(candidate: VideoCandidate, chosen: ReadonlySet<string>): boolean {
  return candidate.source === 'screen' || chosen.has(candidate.participantId);
}
