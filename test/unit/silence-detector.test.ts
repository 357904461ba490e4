import { SilenceDetector } from '@kaskade/media-node';
import { describe, expect, it } from 'vitest';

describe('silent pipe link detection', () => {
  it('names a link suspect once after silenceMs with media due, and recovered on the next byte', () => {
    const d = new SilenceDetector(1000);
    expect(d.observe('l', 0, 100, true)).toBeUndefined();
    expect(d.observe('l', 250, 200, true)).toBeUndefined(); // flowing
    expect(d.observe('l', 1000, 200, true)).toBeUndefined(); // silent 750 ms
    expect(d.observe('l', 1249, 200, true)).toBeUndefined(); // 999 ms
    expect(d.observe('l', 1250, 200, true)).toBe('suspect');
    expect(d.isSuspect('l')).toBe(true);
    expect(d.observe('l', 2500, 200, true)).toBeUndefined(); // once per silence
    expect(d.observe('l', 2750, 260, true)).toBe('recovered');
    expect(d.isSuspect('l')).toBe(false);
    expect(d.observe('l', 3000, 300, true)).toBeUndefined();
  });

  it('does not count time while nothing is due (paused at the origin, unwanted here)', () => {
    const d = new SilenceDetector(1000);
    d.observe('l', 0, 100, true);
    for (let t = 250; t <= 5000; t += 250) expect(d.observe('l', t, 100, false)).toBeUndefined();
    // Due again: the silence counts from the last look at which nothing was due.
    expect(d.observe('l', 5250, 100, true)).toBeUndefined();
    expect(d.observe('l', 5750, 100, true)).toBeUndefined();
    expect(d.observe('l', 6000, 100, true)).toBe('suspect');
  });

  it('keeps links apart and starts afresh for a link it forgot', () => {
    const d = new SilenceDetector(500);
    d.observe('a', 0, 1, true);
    d.observe('b', 0, 1, true);
    expect(d.observe('a', 600, 1, true)).toBe('suspect');
    expect(d.observe('b', 600, 2, true)).toBeUndefined();
    d.retain(new Set(['b']));
    expect(d.isSuspect('a')).toBe(false);
    expect(d.observe('a', 700, 1, true)).toBeUndefined(); // first look again
    expect(d.observe('a', 1199, 1, true)).toBeUndefined();
    expect(d.observe('a', 1200, 1, true)).toBe('suspect');
    d.forget('b');
    expect(d.observe('b', 5000, 2, true)).toBeUndefined();
  });
});
