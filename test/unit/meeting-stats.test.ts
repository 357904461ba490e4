import {
  averageWants,
  distribution,
  growth,
  interleaveRegions,
  type LinkTraffic,
  linkSummary,
  linkWants,
  recordText,
  switchLatencies,
  windowLossPercent,
} from '@kaskade/load-tools';
import { describe, expect, it } from 'vitest';

describe('meeting benchmark arithmetic', () => {
  it('distribution: p50, p95, max and mean of the finite values; NaN for none', () => {
    const d = distribution([...Array.from({ length: 100 }, (_, i) => i + 1), Number.NaN]);
    expect(d).toEqual({ p50: 51, p95: 96, max: 100, mean: 50.5, count: 100 });
    expect(distribution([]).count).toBe(0);
    expect(distribution([]).p95).toBeNaN();
  });

  it('loss over a window counts what the sequence numbers expected in it, over every stream; new streams from 0', () => {
    const before = new Map([
      ['a', { packets: 100, expected: 100, bytes: 0 }],
      ['b', { packets: 50, expected: 60, bytes: 0 }],
    ]);
    const after = new Map([
      ['a', { packets: 190, expected: 200, bytes: 0 }], // 10 of 100 lost in the window
      ['b', { packets: 150, expected: 160, bytes: 0 }], // none lost in the window (10 before it)
      ['c', { packets: 100, expected: 100, bytes: 0 }], // new in the window, none lost
    ]);
    expect(windowLossPercent(before, after)).toBeCloseTo((10 / 300) * 100, 6);
    expect(windowLossPercent(after, after)).toBe(0);
  });

  it('growth keeps what grew, keys new in the second count whole', () => {
    expect(growth({ '180p': 10, '720p': 5 }, { '180p': 25, '720p': 5, '360p': 3 })).toEqual({
      '180p': 15,
      '360p': 3,
    });
  });

  it('a link carries the cameras forwarded to some viewer downstream, at the highest layer any of them wants', () => {
    const wants = linkWants([
      {
        node: 'us-1',
        tiles: [
          { producerId: 'cam-a', originNode: 'eu-1', layer: 2, forwarded: true },
          { producerId: 'cam-b', originNode: 'eu-1', layer: 0, forwarded: true },
          { producerId: 'cam-c', originNode: 'eu-1', layer: 2, forwarded: false }, // last-N paused: not wanted
          { producerId: 'cam-d', originNode: 'us-1', layer: 0, forwarded: true }, // local: no link
        ],
      },
      {
        node: 'us-1',
        tiles: [
          { producerId: 'cam-a', originNode: 'eu-1', layer: 0, forwarded: true },
          { producerId: 'cam-b', originNode: 'eu-1', layer: 0, forwarded: true },
        ],
      },
      { node: 'eu-2', tiles: [{ producerId: 'cam-a', originNode: 'eu-1', layer: 0, forwarded: true }] },
    ]);
    expect(wants).toEqual({
      'eu-1->us-1': { streams: 2, byTopLayer: { 0: 1, 2: 1 } },
      'eu-1->eu-2': { streams: 1, byTopLayer: { 0: 1 } },
    });
    expect(averageWants([wants, { 'eu-1->us-1': { streams: 4, byTopLayer: { 0: 4 } } }])).toEqual({
      'eu-1->us-1': { streams: 3, byTopLayer: { 0: 2.5, 2: 0.5 } },
      'eu-1->eu-2': { streams: 0.5, byTopLayer: { 0: 0.5 } },
    });
  });

  it('link summary: bytes per video stream with the audio of unmuted microphones taken out, against all layers and the layers wanted', () => {
    const rates = { layers: [20_000, 60_000, 160_000], audio: 6_000 };
    const links: Record<string, LinkTraffic> = {
      'eu-1->us-1': {
        streams: 3,
        byTopLayer: { 0: 2, 2: 1 },
        bytesPerSecond: 3 * 240_000 + 6_000,
        unmutedMicrophones: 1,
      },
      'us-1->eu-1': { streams: 1, byTopLayer: { 0: 1 }, bytesPerSecond: 240_000, unmutedMicrophones: 0 },
    };
    const summary = linkSummary(links, rates);
    expect(summary.streams).toBe(4);
    expect(summary.bytesPerStreamPerSecond).toBe(240_000);
    expect(summary.allLayersBytesPerSecond).toBe(240_000);
    expect(summary.ofAllLayersPercent).toBe(100);
    // Three thumbnails-only streams at layer 0, one with a stage viewer: layer 2 and layer 0.
    expect(summary.wantedBytesPerStreamPerSecond).toBe((3 * 20_000 + 180_000) / 4);
    expect(summary.byTopLayer).toEqual({ 0: 3, 2: 1 });
  });

  it('speaker switch latency: each listener in another region, first told the new speaker after the switch and before the next', () => {
    const switches = [
      { participantId: 'alice', region: 'eu', at: 1000 },
      { participantId: 'bob', region: 'us', at: 4000 },
    ];
    const listeners = [
      {
        region: 'us',
        news: [
          { participantId: 'alice', at: 900 },
          { participantId: 'alice', at: 1250 },
        ],
      },
      { region: 'eu', news: [{ participantId: 'bob', at: 4300 }] },
      // told of alice too late (after the next switch): missed; of bob: same region, not counted
      { region: 'us', news: [{ participantId: 'alice', at: 4100 }] },
    ];
    expect(switchLatencies(switches, listeners)).toEqual({ latenciesMs: [250, 300], missed: 1 });
  });

  it('speakers alternate regions, each region in join order', () => {
    const people = ['e1', 'u1', 'e2', 'e3', 'u2'].map((id) => ({ id, region: id[0]! }));
    expect(interleaveRegions(people).map((p) => p.id)).toEqual(['e1', 'u1', 'e2', 'u2', 'e3']);
  });

  it('records as text, keys sorted', () => {
    expect(recordText({ '720p': 3, '180p': 10.26 }, 1)).toBe('180p 10.3, 720p 3.0');
    expect(recordText({})).toBe('none');
  });
});
