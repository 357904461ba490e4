import { type HeardLevel, NO_SPEAKERS, nextSpeakers, type SpeakerRules, type Speakers } from '@kaskade/edge';
import { MAX_SPEAKER_LEVELS, RoomEvent } from '@kaskade/protocol';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';

const rules: SpeakerRules = { thresholdDbov: -70, marginDb: 6, holdMs: 750, staleMs: 1000, maxOrder: 4 };
const heard = (levels: Record<string, number>, at: number): HeardLevel[] =>
  Object.entries(levels).map(([participantId, level]) => ({ participantId, level, at }));

/** Applies the rule to a sequence of views (levels at a time), as a node does report after report. */
function run(views: [at: number, levels: Record<string, number>][], start: Speakers = NO_SPEAKERS) {
  let speakers = start;
  const dominants: (string | null)[] = [];
  for (const [at, levels] of views) {
    speakers = nextSpeakers(speakers, heard(levels, at), at, rules);
    dominants.push(speakers.dominant);
  }
  return { speakers, dominants };
}

describe('the speaker order rule', () => {
  it('makes the first speaker dominant at once and keeps the last speaker through silence', () => {
    const { speakers, dominants } = run([
      [0, {}],
      [250, { a: -30 }],
      [500, {}],
      [5000, {}],
    ]);
    expect(dominants).toEqual([null, 'a', 'a', 'a']);
    expect(speakers.order).toEqual(['a']);
  });

  it('does not flap between two speakers of about the same level', () => {
    const { dominants } = run([
      [250, { a: -30 }],
      [500, { a: -30, b: -28 }],
      [750, { a: -33, b: -29 }],
      [1000, { a: -31, b: -27 }],
    ]);
    expect(dominants).toEqual(['a', 'a', 'a', 'a']);
  });

  it('switches to a clearly louder speaker, and to anyone speaking once the dominant one fell silent past the hold', () => {
    expect(
      run([
        [250, { a: -40 }],
        [500, { a: -40, b: -30 }],
      ]).dominants,
    ).toEqual(['a', 'b']);
    // A quiet challenger during a pause (held at the threshold) does not take over...
    const pause = run([
      [250, { a: -30 }],
      [500, { b: -66 }],
      [750, { b: -66 }],
    ]);
    expect(pause.dominants).toEqual(['a', 'a', 'a']);
    // ...a talking one does, and so does the quiet one once the pause outlasts the hold.
    expect(
      run([
        [250, { a: -30 }],
        [500, { b: -40 }],
      ]).dominants,
    ).toEqual(['a', 'b']);
    expect(
      run([
        [250, { a: -30 }],
        [500, { b: -66 }],
        [1100, { b: -66 }],
      ]).dominants,
    ).toEqual(['a', 'a', 'b']);
  });

  it('ignores levels below the threshold and levels not renewed in time', () => {
    expect(run([[250, { a: -90 }]]).dominants).toEqual([null]);
    const stale = nextSpeakers(NO_SPEAKERS, [{ participantId: 'a', level: -20, at: 0 }], 2000, rules);
    expect(stale.dominant).toBeNull();
  });

  it('orders the dominant speaker first, then those speaking now, then by recency, bounded', () => {
    const { speakers } = run([
      [250, { a: -30 }],
      [500, { b: -20 }],
      [750, { c: -10 }],
      [1000, { c: -10, d: -50, e: -60 }],
      [1250, { c: -10, e: -60 }],
    ]);
    expect(speakers.dominant).toBe('c');
    // d stopped: below e, who still speaks; the order is bounded to maxOrder.
    expect(speakers.order).toEqual(['c', 'e', 'd', 'b']);
  });

  it('gives way at once when the dominant speaker leaves, and drops the gone from the order', () => {
    const before = run([
      [250, { a: -30 }],
      [500, { a: -30, b: -40 }],
    ]).speakers;
    const after = nextSpeakers(before, heard({ b: -40 }, 750), 750, rules, (id) => id !== 'a');
    expect(after.dominant).toBe('b');
    expect(after.order).toEqual(['b']);
    const silent = nextSpeakers(before, [], 750, rules, (id) => id !== 'a');
    expect(silent.dominant).toBeNull();
  });

  it('brings nodes that saw two speakers start in a different order to the same speaker at the next clear moment', () => {
    // Node 1 heard a first, node 2 heard b first, within one interval.
    const one = run([
      [250, { a: -30 }],
      [260, { a: -30, b: -31 }],
    ]);
    const two = run([
      [250, { b: -31 }],
      [260, { a: -30, b: -31 }],
    ]);
    expect([one.speakers.dominant, two.speakers.dominant]).toEqual(['a', 'b']);
    const clear = heard({ a: -40, b: -25 }, 500);
    expect(nextSpeakers(one.speakers, clear, 500, rules).dominant).toBe('b');
    expect(nextSpeakers(two.speakers, clear, 500, rules).dominant).toBe('b');
    // And the same inputs give the same answer, whatever order the levels are listed in.
    const shuffled = [...clear].reverse();
    expect(nextSpeakers(one.speakers, shuffled, 500, rules)).toEqual(
      nextSpeakers(one.speakers, clear, 500, rules),
    );
  });
});

describe('the speakerLevels room event', () => {
  const check = Compile(RoomEvent);
  const levels = (n: number, level = -30) =>
    Array.from({ length: n }, (_, i) => ({ producerId: `mic-${i}`, level }));

  it('is bounded: at most MAX_SPEAKER_LEVELS entries, levels from -127 to 0 dBov', () => {
    expect(check.Check({ type: 'speakerLevels', levels: levels(MAX_SPEAKER_LEVELS) })).toBe(true);
    expect(check.Check({ type: 'speakerLevels', levels: [] })).toBe(true);
    expect(check.Check({ type: 'speakerLevels', levels: levels(MAX_SPEAKER_LEVELS + 1) })).toBe(false);
    expect(check.Check({ type: 'speakerLevels', levels: levels(1, 3) })).toBe(false);
    expect(check.Check({ type: 'speakerLevels', levels: levels(1, -128) })).toBe(false);
    expect(check.Check({ type: 'speakerLevels', levels: levels(1, -20.5) })).toBe(false);
  });
});
