import { GapMeter, gapStats } from '@kaskade/load-tools';
import { describe, expect, it } from 'vitest';

/** Packets every `step` ms from `from` to `to` (exclusive). */
function feed(track: { packet(at: number): void }, from: number, to: number, step = 20) {
  for (let at = from; at < to; at += step) track.packet(at);
}

describe('GapMeter (times given, no clock)', () => {
  it('finds the longest silence of a stream inside the window, clipped to its start', () => {
    const meter = new GapMeter();
    const audio = meter.track('v1');
    feed(audio, 0, 1000);
    meter.window(990); // the last packet before it came at 980
    feed(audio, 1000, 1500);
    feed(audio, 1850, 2000); // 1480 -> 1850: 370 ms of silence
    const [v1] = meter.read(2000);
    expect(v1).toEqual({ viewer: 'v1', maxGapMs: 370, receivingAgainMs: 1850 - 990 });
  });

  it('takes the worst stream of a viewer, and a silence still going on as not receiving', () => {
    const meter = new GapMeter();
    const audio = meter.track('v1');
    const video = meter.track('v1');
    const other = meter.track('v2');
    meter.window(0);
    feed(audio, 0, 3000);
    feed(video, 0, 1000);
    feed(video, 1200, 3000); // one 220 ms gap, ended at 1200
    feed(other, 0, 500); // silent from 480 on
    const gaps = meter.read(3000);
    expect(gaps).toEqual([
      { viewer: 'v1', maxGapMs: 220, receivingAgainMs: 1200 },
      { viewer: 'v2', maxGapMs: 2520, receivingAgainMs: null },
    ]);
    const stats = gapStats(gaps);
    expect(stats).toMatchObject({ viewers: 2, maxGapMs: 2520, over100Ms: 2, notReceiving: 1 });
    expect(stats.receivingAgainMs.max).toBe(1200);
  });

  it('a new window forgets the last one; viewers without a noticeable gap count as receiving', () => {
    const meter = new GapMeter();
    const audio = meter.track('v1');
    feed(audio, 0, 500);
    feed(audio, 900, 1000);
    meter.window(1000);
    feed(audio, 1000, 2000);
    const [v1] = meter.read(2000);
    expect(v1!.maxGapMs).toBe(20);
    expect(v1!.receivingAgainMs).toBe(0);
    expect(gapStats([]).maxGapMs).toBeNull();
  });
});

describe('receiving again', () => {
  it('is the end of the first noticeable gap after the fault, not of a later longer one', () => {
    const meter = new GapMeter();
    const audio = meter.track('v1');
    meter.window(0);
    feed(audio, 0, 100);
    feed(audio, 600, 5000); // 80 -> 600: the fault
    feed(audio, 6000, 7000); // 4980 -> 6000: a longer gap later (a tree change)
    expect(meter.read(7000)).toEqual([{ viewer: 'v1', maxGapMs: 1020, receivingAgainMs: 600 }]);
  });
});
