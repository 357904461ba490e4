/**
 * The rule every node applies alike to the speaker levels it hears (its own and those
 * the other nodes report), so that all of them agree on one dominant speaker and one
 * recent-speaker order without asking each other. Pure: the same levels, time and
 * previous result give the same answer on every node.
 *
 * Agreement: the result depends on the previous dominant only while no speaker is
 * clearly louder than it. Any view in which one speaker is clearly the loudest (or the
 * only one) brings every node to that speaker, whatever it had before, so nodes that
 * saw two speakers start in a different order converge at the next clear moment.
 */

export interface SpeakerRules {
  /** Levels (dBov) below this are not speech. */
  thresholdDbov: number;
  /** A challenger must be this much louder than the dominant speaker to take over (no flapping). */
  marginDb: number;
  /**
   * How long a dominant speaker who fell silent keeps the floor against quiet challengers
   * (a pause between words): until then it counts as speaking at the threshold.
   */
  holdMs: number;
  /** A level not renewed within this long is old news (a node that went quiet without saying so). */
  staleMs: number;
  /** Most participants the order lists. */
  maxOrder: number;
}

/** A participant's level as last heard, and when (this node's clock). */
export interface HeardLevel {
  participantId: string;
  level: number;
  at: number;
}

export interface Speakers {
  dominant: string | null;
  /** When the dominant speaker was last heard speaking. */
  dominantHeardAt: number;
  /** Most relevant first: the dominant speaker, those speaking now, then by recency. */
  order: readonly string[];
}

export const NO_SPEAKERS: Speakers = { dominant: null, dominantHeardAt: 0, order: [] };

const byLevelThenId = (a: HeardLevel, b: HeardLevel) =>
  b.level - a.level || (a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0);

/** Who speaks now: fresh levels at or above the threshold, loudest first (ties by id). */
export function speakingNow(heard: Iterable<HeardLevel>, now: number, rules: SpeakerRules): HeardLevel[] {
  return [...heard]
    .filter((h) => h.level >= rules.thresholdDbov && now - h.at <= rules.staleMs)
    .sort(byLevelThenId);
}

/**
 * The next dominant speaker and order from the previous ones and the levels heard.
 * `present` says whether a participant can still speak (its microphone is in the room):
 * a dominant speaker whose microphone went gives way at once.
 */
export function nextSpeakers(
  previous: Speakers,
  heard: Iterable<HeardLevel>,
  now: number,
  rules: SpeakerRules,
  present: (participantId: string) => boolean = () => true,
): Speakers {
  const speaking = speakingNow(heard, now, rules).filter((h) => present(h.participantId));
  const loudest = speaking[0];
  let dominant = previous.dominant !== null && present(previous.dominant) ? previous.dominant : null;
  let dominantHeardAt = dominant === null ? 0 : previous.dominantHeardAt;
  const current = speaking.find((h) => h.participantId === dominant);
  if (current) dominantHeardAt = now;
  // The dominant speaker's level as the rule sees it: heard, held at the threshold
  // through a pause, or none (silent past the hold, or nobody).
  const held =
    current?.level ??
    (dominant !== null && now - dominantHeardAt <= rules.holdMs ? rules.thresholdDbov : undefined);
  if (loudest && loudest.participantId !== dominant) {
    if (held === undefined || loudest.level >= held + rules.marginDb) {
      dominant = loudest.participantId;
      dominantHeardAt = now;
    }
  }
  // Silence keeps the last speaker (the one who spoke last), as long as it is in the room.
  const rank = new Map(previous.order.map((id, i) => [id, i]));
  const speakingIds = speaking
    .map((h) => h.participantId)
    .sort((a, b) => (rank.get(a) ?? Number.MAX_SAFE_INTEGER) - (rank.get(b) ?? Number.MAX_SAFE_INTEGER));
  const order: string[] = [];
  for (const id of [...(dominant === null ? [] : [dominant]), ...speakingIds, ...previous.order]) {
    if (order.length >= rules.maxOrder) break;
    if (!order.includes(id) && present(id)) order.push(id);
  }
  return { dominant, dominantHeardAt, order };
}

/** Whether two orders list the same participants in the same places. */
export function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => b[i] === id);
}
