import { RequestError, SignalingChannel } from '@kaskade/client-sdk';
import type { Edge } from '@kaskade/edge';
import { RtpBot } from '@kaskade/load-tools';
import { CloseCodes, type SdkErrorCode } from '@kaskade/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_GRANTS,
  eventually,
  expectNoMediaObjects,
  mediaObjects,
  startEdge,
  token,
} from '../helpers/edge.ts';
import { RawSocket } from '../helpers/raw-socket.ts';

let edge: Edge;

beforeAll(async () => {
  edge = await startEdge({ KASKADE_JOIN_TIMEOUT_MS: '1500' });
});
afterAll(async () => {
  await edge?.stop();
});

async function joinedChannel(identity: string, room: string, grants = ALL_GRANTS) {
  const channel = await SignalingChannel.open(edge.url);
  const { rtpCapabilities } = await channel.request('getRouterRtpCapabilities', {});
  const joined = await channel.request('join', {
    token: await token(identity, room, grants),
    rtpCapabilities,
  });
  return { channel, joined, rtpCapabilities };
}

function expectCode(promise: Promise<unknown>, code: SdkErrorCode) {
  return expect(promise).rejects.toSatisfy((e) => e instanceof RequestError && e.code === code);
}

describe('signaling: bad input gets typed errors and the connection stays healthy', () => {
  it('answers every kind of bad frame and keeps serving', async () => {
    const ws = await RawSocket.open(edge.url);
    ws.send('{not json');
    expect(await ws.next()).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
    ws.send(JSON.stringify({ id: 1 }));
    expect(await ws.next()).toMatchObject({ id: 1, ok: false, error: { code: 'BAD_REQUEST' } });
    ws.send(JSON.stringify([1, 2, 3]));
    expect(await ws.next()).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
    ws.send(new Uint8Array([1, 2, 3]));
    expect(await ws.next()).toMatchObject({ id: null, ok: false, error: { code: 'BAD_REQUEST' } });
    ws.send(JSON.stringify({ id: 2, method: 'join', data: { token: 'x'.repeat(70_000) } }));
    expect(await ws.next()).toMatchObject({ id: null, ok: false, error: { code: 'MESSAGE_TOO_LARGE' } });
    expect(await ws.request(3, 'launchRockets', {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_METHOD' },
    });
    expect(await ws.request(4, '__proto__', {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_METHOD' },
    });
    expect(await ws.request(5, 'createTransport', { direction: 'send' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_STATE' }, // out of order: before join
    });
    expect(await ws.request(6, 'getRouterRtpCapabilities', { extra: 1 })).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST' },
    });
    const caps = await ws.request(7, 'getRouterRtpCapabilities', {});
    expect(caps).toMatchObject({ ok: true });
    expect(ws.open).toBe(true);
    ws.close();
  });

  it('validates request data against the schema after join', async () => {
    const { channel } = await joinedChannel('schema', 'room-schema');
    await expectCode(channel.request('createTransport', { direction: 'sideways' as 'send' }), 'BAD_REQUEST');
    await expectCode(channel.request('consume', { producerId: 'no such' }), 'BAD_REQUEST'); // pattern
    await expectCode(channel.request('consume', { producerId: 'nosuch' }), 'INVALID_STATE'); // no recv transport
    await expectCode(channel.request('pauseProducer', { producerId: 'nosuch' }), 'NOT_FOUND');
    await expectCode(
      channel.request('join', {
        token: await token('schema', 'room-schema'),
        rtpCapabilities: { codecs: [] },
      }),
      'INVALID_STATE',
    );
    const send = await channel.request('createTransport', { direction: 'send' });
    await expectCode(channel.request('createTransport', { direction: 'send' }), 'CONFLICT');
    // Semantically wrong RTP parameters are refused by mediasoup, typed, and leave nothing behind.
    await expectCode(
      channel.request('produce', {
        transportId: send.id,
        kind: 'video',
        source: 'camera',
        rtpParameters: {
          codecs: [{ mimeType: 'video/NOPE', payloadType: 100, clockRate: 90000 }],
          encodings: [],
        },
      }),
      'BAD_REQUEST',
    );
    await expectCode(
      channel.request('produce', {
        transportId: send.id,
        kind: 'audio',
        source: 'camera',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000 }] },
      }),
      'BAD_REQUEST',
    );
    expect((await mediaObjects(edge)).producers).toBe(0);
    expect(channel.open).toBe(true);
    await channel.request('leave', {});
    await expectNoMediaObjects(edge);
  });
});

describe('signaling: authentication', () => {
  it.each([
    ['garbage', async () => 'not-a-jwt'],
    ['expired', async () => token('late', 'r', ALL_GRANTS, { ttlSeconds: -60 })],
    [
      'wrong secret',
      async () => {
        const { issueToken } = await import('@kaskade/node-toolkit');
        return issueToken(
          { identity: 'x', name: 'x', room: 'r', grants: ALL_GRANTS },
          { secret: 'another-secret-another-secret-0000' },
        );
      },
    ],
  ])('a %s token is refused with UNAUTHORIZED and close code 4401', async (_name, make) => {
    const ws = await RawSocket.open(edge.url);
    const caps = (await ws.request(1, 'getRouterRtpCapabilities', {})).data as { rtpCapabilities: unknown };
    const answer = await ws.request(2, 'join', {
      token: await make(),
      rtpCapabilities: caps.rtpCapabilities,
    });
    expect(answer).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect((await ws.closed).code).toBe(CloseCodes.unauthorized);
  });

  it('closes a socket that does not join in time with 4408', async () => {
    const ws = await RawSocket.open(edge.url);
    expect((await ws.closed).code).toBe(CloseCodes.joinTimeout);
  });

  it('replaces a participant whose identity joins again, closing the old socket with 4409', async () => {
    const first = await joinedChannel('twin', 'room-twin');
    const closed = new Promise<number>((resolve) => first.channel.on('close', (code) => resolve(code)));
    const second = await joinedChannel('twin', 'room-twin');
    expect(await closed).toBe(CloseCodes.replaced);
    expect(second.joined.participants).toEqual([]);
    second.channel.close();
    await expectNoMediaObjects(edge);
  });
});

describe('signaling: grants are enforced', () => {
  it('a subscribe-only participant cannot open a send transport or produce', async () => {
    const { channel } = await joinedChannel('viewer', 'room-grants', { publish: false, subscribe: true });
    await expectCode(channel.request('createTransport', { direction: 'send' }), 'FORBIDDEN');
    await expectCode(channel.request('createPlainTransport', { direction: 'send' }), 'FORBIDDEN');
    const recv = await channel.request('createTransport', { direction: 'recv' });
    await expectCode(
      channel.request('produce', {
        transportId: recv.id,
        kind: 'audio',
        source: 'microphone',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000 }] },
      }),
      'FORBIDDEN',
    );
    channel.close();
  });

  it('a publisher limited to the microphone cannot publish a camera; a publish-only one cannot consume', async () => {
    const bot = await RtpBot.join(
      edge.url,
      await token('mic-only', 'room-grants-2', {
        publish: true,
        publishSources: ['microphone'],
        subscribe: false,
      }),
    );
    await expect(bot.publish('camera')).rejects.toSatisfy(
      (e) => e instanceof RequestError && e.code === 'FORBIDDEN',
    );
    const mic = await bot.publish('microphone');
    await expectCode(bot.channel.request('createTransport', { direction: 'recv' }), 'FORBIDDEN');
    await expectCode(bot.channel.request('consume', { producerId: mic }), 'FORBIDDEN');
    await bot.close();
    await expectNoMediaObjects(edge);
  });
});

describe('media over the real signaling (plain RTP bots)', () => {
  it('delivers, pauses, resumes and closes streams, tells others, and leaks nothing', async () => {
    const alice = await RtpBot.join(edge.url, await token('alice', 'room-media'));
    const bob = await RtpBot.join(edge.url, await token('bob', 'room-media'));
    const streams: string[] = [];
    const paused: string[] = [];
    const resumed: string[] = [];
    const closed: string[] = [];
    const left: string[] = [];
    bob.channel.on('streamAdded', (s) => streams.push(s.producerId));
    bob.channel.on('streamPaused', (s) => paused.push(s.producerId));
    bob.channel.on('streamResumed', (s) => resumed.push(s.producerId));
    bob.channel.on('streamClosed', (s) => closed.push(s.producerId));
    bob.channel.on('participantLeft', (p) => left.push(p.participantId));

    const mic = await alice.publish('microphone');
    const cam = await alice.publish('camera', { packetsPerSecond: 30 });
    await eventually(() => expect(streams).toEqual([mic, cam]));
    const audio = await bob.consume({ producerId: mic });
    const video = await bob.consume({ producerId: cam });
    await eventually(() => {
      expect(audio.packets).toBeGreaterThan(20);
      expect(video.packets).toBeGreaterThan(10);
      expect(video.keyframes).toBeGreaterThan(0);
    });

    await alice.channel.request('pauseProducer', { producerId: cam });
    await eventually(() => expect(paused).toEqual([cam]));
    const frozen = video.packets;
    await new Promise((r) => setTimeout(r, 300));
    expect(video.packets - frozen).toBeLessThanOrEqual(2); // in flight at the moment of pause
    await alice.channel.request('resumeProducer', { producerId: cam });
    await eventually(() => expect(resumed).toEqual([cam]));
    await eventually(() => expect(video.packets).toBeGreaterThan(frozen + 5));

    await alice.channel.request('closeProducer', { producerId: cam });
    await eventually(() => expect(closed).toEqual([cam]));

    await alice.close();
    await eventually(() => expect(left).toEqual([alice.id]));
    await bob.close();
    await expectNoMediaObjects(edge);
  });

  it('a participant whose socket drops without leave is removed and its streams closed', async () => {
    const alice = await RtpBot.join(edge.url, await token('alice2', 'room-drop'));
    const bob = await RtpBot.join(edge.url, await token('bob2', 'room-drop'));
    const left: string[] = [];
    bob.channel.on('participantLeft', (p) => left.push(p.participantId));
    await alice.publish('microphone');
    alice.channel.close(); // no leave request
    await eventually(() => expect(left).toEqual([alice.id]));
    await alice.close();
    await bob.close();
    await expectNoMediaObjects(edge);
  });
});
