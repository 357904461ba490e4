import { Notifications, RequestFrame, Requests } from '@kaskade/protocol';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';

const check = (schema: TSchema, value: unknown) => Compile(schema).Check(value);

describe('signaling schemas', () => {
  it('accepts well-formed requests', () => {
    expect(check(RequestFrame, { id: 1, method: 'join', data: {} })).toBe(true);
    expect(check(Requests.createTransport.request, { direction: 'recv', forceTcp: true })).toBe(true);
    expect(
      check(Requests.produce.request, {
        transportId: 't1',
        kind: 'video',
        source: 'camera',
        rtpParameters: {
          codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
          encodings: [{}],
        },
      }),
    ).toBe(true);
  });

  it('refuses wrong types, unknown fields, out-of-range values and oversized arrays', () => {
    expect(check(RequestFrame, { id: -1, method: 'join' })).toBe(false);
    expect(check(RequestFrame, { id: 1, method: 'join', extra: 1 })).toBe(false);
    expect(check(Requests.createTransport.request, { direction: 'both' })).toBe(false);
    expect(check(Requests.createTransport.request, { direction: 'send', sneaky: true })).toBe(false);
    expect(check(Requests.setPreferredLayers.request, { consumerId: 'c', spatialLayer: 9 })).toBe(false);
    expect(check(Requests.consume.request, { producerId: '../../etc' })).toBe(false);
    const codecs = Array.from({ length: 17 }, () => ({
      mimeType: 'audio/opus',
      payloadType: 100,
      clockRate: 48000,
    }));
    expect(
      check(Requests.produce.request, {
        transportId: 't',
        kind: 'audio',
        source: 'microphone',
        rtpParameters: { codecs },
      }),
    ).toBe(false);
    expect(
      check(Requests.produce.request, {
        transportId: 't',
        kind: 'audio',
        source: 'tv',
        rtpParameters: { codecs: codecs.slice(0, 1) },
      }),
    ).toBe(false);
  });

  it('types every notification', () => {
    expect(check(Notifications.activeSpeaker, { participantId: null })).toBe(true);
    expect(check(Notifications.streamAdded, { producerId: 'p' })).toBe(false);
  });
});
