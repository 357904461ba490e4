import { isReceiving, streamKey, waitUntilReceiving } from '@kaskade/client-sdk/internals';
import { describe, expect, it } from 'vitest';

describe('SDK make-before-break switching', () => {
  it('video receives once a frame is decoded; audio once samples or packets arrive', () => {
    expect(isReceiving([{ type: 'inbound-rtp', framesDecoded: 0, packetsReceived: 40 }], 'video')).toBe(
      false,
    );
    expect(isReceiving([{ type: 'inbound-rtp', framesDecoded: 1 }], 'video')).toBe(true);
    expect(isReceiving([{ type: 'inbound-rtp', totalSamplesReceived: 0, packetsReceived: 0 }], 'audio')).toBe(
      false,
    );
    expect(isReceiving([{ type: 'inbound-rtp', totalSamplesReceived: 960 }], 'audio')).toBe(true);
    expect(isReceiving([{ type: 'inbound-rtp', packetsReceived: 3 }], 'audio')).toBe(true);
    expect(isReceiving([{ type: 'transport', framesDecoded: 9 }], 'video')).toBe(false);
  });

  it('polls until the stats show media, reading an RTCStatsReport-like map', async () => {
    let polls = 0;
    const getStats = async () => {
      polls++;
      return new Map([['r', { type: 'inbound-rtp', framesDecoded: polls >= 3 ? 1 : 0 }]]) as never;
    };
    expect(await waitUntilReceiving(getStats, 'video', { intervalMs: 5, boundMs: 1000 })).toBe(true);
    expect(polls).toBe(3);
  });

  it('gives up at the bound, and when cancelled, without throwing on failing stats', async () => {
    const started = Date.now();
    const never = async () => [{ type: 'inbound-rtp', framesDecoded: 0 }];
    expect(await waitUntilReceiving(never, 'video', { intervalMs: 5, boundMs: 60 })).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    const failing = async () => {
      throw new Error('closed');
    };
    let cancel = false;
    setTimeout(() => {
      cancel = true;
    }, 20);
    expect(
      await waitUntilReceiving(failing, 'audio', { intervalMs: 5, boundMs: 10_000, cancelled: () => cancel }),
    ).toBe(false);
  });

  it('keys a stream by participant and source, not by producer', () => {
    expect(streamKey({ participantId: 'p1', source: 'camera' })).toBe('p1/camera');
    expect(streamKey({ participantId: 'p1', source: 'camera' })).not.toBe(
      streamKey({ participantId: 'p1', source: 'screen' }),
    );
  });
});
