import type { Edge } from '@kaskade/edge';
import type { ReceivedStream } from '@kaskade/load-tools';
import { RtpBot } from '@kaskade/load-tools';
import { CloseCodes } from '@kaskade/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, mediaObjects, startEdge, TEST_OPERATOR_TOKEN, token } from '../helpers/edge.ts';
import { Client, keepsFlowing } from '../helpers/hostile-client.ts';
import { scrapeMetric } from '../helpers/metrics.ts';

// Hostile clients against real processes: each case asserts the refusal and that the
// people already in a room keep their media.
// Here: one standalone edge against hostile sockets (rates, caps, refusals).

describe('a standalone edge against hostile sockets', () => {
  let edge: Edge;
  let bystander: { presenter: RtpBot; viewer: RtpBot; stream: ReceivedStream };

  beforeAll(async () => {
    edge = await startEdge({
      KASKADE_WS_MAX_PER_ADDRESS: '4',
      KASKADE_WS_REQUESTS_PER_S: '5',
      KASKADE_WS_REQUEST_BURST: '12',
      KASKADE_MAX_CONSUMERS_PER_PARTICIPANT: '1',
      KASKADE_RESTART_ICE_BURST: '2',
      KASKADE_RESTART_ICE_PER_S: '0.1',
    });
    const presenter = await RtpBot.join(edge.url, await token('presenter', 'bystanders'));
    const mic = await presenter.publish('microphone');
    const viewer = await RtpBot.join(edge.url, await token('viewer', 'bystanders'));
    bystander = { presenter, viewer, stream: await viewer.consume({ producerId: mic }) };
  });
  afterAll(async () => {
    await bystander?.viewer.close();
    await bystander?.presenter.close();
    await edge?.stop();
  });

  it('before join only join and one capabilities request are answered; a socket that keeps sending is closed (4400)', async () => {
    const client = await Client.open(edge.url, '127.0.0.21');
    expect(await client.request(1, 'createTransport', { direction: 'send' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_STATE' },
    });
    expect(await client.request(2, 'getRouterRtpCapabilities')).toMatchObject({ ok: true });
    expect(await client.request(3, 'getRouterRtpCapabilities')).toMatchObject({
      ok: false,
      error: { code: 'INVALID_STATE' },
    });
    for (let id = 4; id < 100; id++) client.send(id, 'listHands');
    expect((await client.closed).code).toBe(CloseCodes.tooManyBeforeJoin);
    // 16 messages are accepted before the join (the default); none after.
    expect(client.frames.length).toBeLessThanOrEqual(16);
    await keepsFlowing(bystander.stream);
  });

  it('requests past the socket rate get RATE_LIMITED without the work; the rate refills', async () => {
    const client = await Client.open(edge.url, '127.0.0.22');
    const caps = await client.request(1, 'getRouterRtpCapabilities');
    await client.request(2, 'join', { token: await token('eager', 'bystanders'), ...(caps.data as object) });
    for (let id = 10; id < 40; id++) client.send(id, 'getRouterRtpCapabilities');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => client.answer(10 + i)));
    const limited = answers.filter((a) => (a.error as { code?: string })?.code === 'RATE_LIMITED');
    const served = answers.filter((a) => a.ok === true);
    // 12 at once, two used by the join: about 10 served (plus what refilled meanwhile).
    expect(served.length).toBeGreaterThanOrEqual(8);
    expect(served.length).toBeLessThanOrEqual(14);
    expect(limited.length).toBe(30 - served.length);
    expect((limited[0]!.error as { message: string }).message).toMatch(/retry in \d+ ms/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await client.request(50, 'getRouterRtpCapabilities')).toMatchObject({ ok: true });
    client.ws.close();
    await keepsFlowing(bystander.stream);
  });

  it('caps consumers per participant and the rate of restartIce, with typed errors', async () => {
    const second = await bystander.presenter.publish('camera');
    const client = await Client.open(edge.url, '127.0.0.23');
    const caps = await client.request(1, 'getRouterRtpCapabilities');
    const joined = await client.request(2, 'join', {
      token: await token('greedy', 'bystanders'),
      ...(caps.data as object),
    });
    const streams = (joined.data as { streams: { producerId: string }[] }).streams;
    expect(streams.length).toBeGreaterThanOrEqual(2);
    const recv = (await client.request(3, 'createTransport', { direction: 'recv' })).data as { id: string };
    expect(await client.request(4, 'consume', { producerId: streams[0]!.producerId })).toMatchObject({
      ok: true,
    });
    expect(await client.request(5, 'consume', { producerId: streams[1]!.producerId })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_STATE', message: expect.stringMatching(/at most 1 streams/) },
    });
    expect((await mediaObjects(edge)).consumers).toBe(2); // the bystander's and one of these
    expect(await client.request(6, 'restartIce', { transportId: recv.id })).toMatchObject({ ok: true });
    expect(await client.request(7, 'restartIce', { transportId: recv.id })).toMatchObject({ ok: true });
    expect(await client.request(8, 'restartIce', { transportId: recv.id })).toMatchObject({
      ok: false,
      error: { code: 'RATE_LIMITED' },
    });
    client.ws.close();
    await bystander.presenter.channel.request('closeProducer', { producerId: second });
    await keepsFlowing(bystander.stream);
  });

  it('parameters the mediasoup worker refuses are BAD_REQUEST (logged at debug), never INTERNAL', async () => {
    const client = await Client.open(edge.url, '127.0.0.26');
    const caps = await client.request(1, 'getRouterRtpCapabilities');
    await client.request(2, 'join', { token: await token('clash', 'bystanders'), ...(caps.data as object) });
    const send = (await client.request(3, 'createPlainTransport', { direction: 'send' })).data as {
      id: string;
    };
    const audio = {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: 4242 }],
    };
    const video = {
      codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
      encodings: [{ ssrc: 4242 }], // the same SSRC: the worker's RTP listener refuses it
    };
    expect(
      await client.request(4, 'produce', {
        transportId: send.id,
        kind: 'audio',
        source: 'microphone',
        rtpParameters: audio,
      }),
    ).toMatchObject({ ok: true });
    expect(
      await client.request(5, 'produce', {
        transportId: send.id,
        kind: 'video',
        source: 'camera',
        rtpParameters: video,
      }),
    ).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/ssrc/i) } });
    client.ws.close();
    await keepsFlowing(bystander.stream);
  });

  it('sockets per source address are capped (429 before the upgrade); other addresses still get in', async () => {
    const held: Client[] = [];
    for (let i = 0; i < 4; i++) held.push(await Client.open(edge.url, '127.0.0.24'));
    await expect(Client.open(edge.url, '127.0.0.24')).rejects.toMatchObject({ status: 429 });
    const other = await Client.open(edge.url, '127.0.0.25');
    expect(await other.request(1, 'getRouterRtpCapabilities')).toMatchObject({ ok: true });
    held.pop()!.ws.close();
    await eventually(async () => {
      const again = await Client.open(edge.url, '127.0.0.24');
      again.ws.close();
    });
    for (const c of [...held, other]) c.ws.close();
    await keepsFlowing(bystander.stream);
  });
  it('a standalone edge takes a token without node claim, and the same token again (no directory to remember it)', async () => {
    const jwt = await token('again', 'bystanders');
    for (let round = 0; round < 2; round++) {
      const client = await Client.open(edge.url, '127.0.0.27');
      const caps = await client.request(1, 'getRouterRtpCapabilities');
      expect(await client.request(2, 'join', { token: jwt, ...(caps.data as object) })).toMatchObject({
        ok: true,
      });
      expect(await client.request(3, 'leave')).toMatchObject({ ok: true });
      await client.closed;
    }
  });

  it('counts every refusal by its reason for the operator', async () => {
    const refusals = (reason: string) =>
      scrapeMetric(edge.operatorUrl, TEST_OPERATOR_TOKEN, 'kaskade_signaling_refusals_total', { reason });
    expect(await refusals('before_join')).toBe(1);
    expect(await refusals('consumer_cap')).toBe(1);
    expect(await refusals('per_address')).toBeGreaterThanOrEqual(1);
    expect(await refusals('rate_limited')).toBeGreaterThanOrEqual(16); // 15+ requests and one restartIce
    expect(await refusals('slow_reader')).toBe(0);
  });
});
