import { readFileSync } from 'node:fs';
import { Directory } from '@kaskade/directory';
import type { ReceivedStream } from '@kaskade/load-tools';
import { RtpBot } from '@kaskade/load-tools';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import { issueToken } from '@kaskade/node-toolkit';
import { CloseCodes, type HttpJoinReply, httpJoinPath } from '@kaskade/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_GRANTS, eventually } from '../helpers/edge.ts';
import { Client, keepsFlowing, post } from '../helpers/hostile-client.ts';
import { nodeView } from '../helpers/mesh.ts';
import { scrapeMetric } from '../helpers/metrics.ts';

// Hostile clients against real processes: each case asserts the refusal and that the
// people already in a room keep their media.
// Here: a local mesh of processes (control plane and edges) against hostile clients of its
// HTTP join API and its edges.

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(line![1]);
}

const capabilitiesOf = async (edgeUrl: string) => {
  const probe = await Client.open(edgeUrl);
  const caps = (await probe.request(1, 'getRouterRtpCapabilities')).data as { rtpCapabilities: unknown };
  probe.ws.close();
  return caps.rtpCapabilities;
};

describe('a local mesh of processes against hostile clients', () => {
  let mesh: LocalMesh;
  let directory: Directory;
  const errorLines: string[] = [];
  let bystander: { presenter: RtpBot; viewer: RtpBot; stream: ReceivedStream };
  const join = (room: string) => `${mesh.controlPlane.url}${httpJoinPath(room)}`;
  const appToken = (identity: string, room: string, ttlSeconds?: number) =>
    issueToken(
      { identity, name: identity, room, grants: ALL_GRANTS, ttlSeconds },
      { secret: mesh.appJwtSecret },
    );

  /** Asks the control plane for a ticket from the given address. */
  async function ticket(identity: string, room: string, localAddress = '127.0.0.1') {
    const answer = await post(join(room), JSON.stringify({ token: await appToken(identity, room) }), {
      localAddress,
    });
    if (answer.status !== 200)
      throw new Error(`join refused: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body as HttpJoinReply;
  }

  beforeAll(async () => {
    mesh = await startLocalMesh({
      regions: { eu: '127.0.1' },
      edgesPerRegion: 2,
      edgeEnv: {
        KASKADE_ALLOW_PLAIN_RTP: 'true',
        KASKADE_HEARTBEAT_MS: '500',
        KASKADE_ROOM_EMPTY_GRACE_MS: '500',
        KASKADE_LOG_LEVEL: 'info',
      },
      controlPlaneEnv: {
        KASKADE_JOINS_PER_S_PER_ADDRESS: '5',
        KASKADE_JOIN_BURST_PER_ADDRESS: '150',
        KASKADE_LOG_LEVEL: 'info',
      },
      // pino level 50 and up: error, fatal.
      log: (source, line) => {
        if (/"level":(5|6)\d/.test(line)) errorLines.push(`${source}: ${line}`);
      },
    });
    directory = new Directory(mesh.redisUrl, pino({ level: 'silent' }));
    const p = await ticket('presenter', 'lecture-hall');
    const presenter = await RtpBot.join(p.edgeUrl, p.edgeToken);
    const mic = await presenter.publish('microphone');
    const v = await ticket('viewer', 'lecture-hall');
    const viewer = await RtpBot.join(v.edgeUrl, v.edgeToken);
    bystander = { presenter, viewer, stream: await viewer.consume({ producerId: mic }) };
    await keepsFlowing(bystander.stream);
  }, 90_000);
  afterAll(async () => {
    await bystander?.viewer.close().catch(() => undefined);
    await bystander?.presenter.close().catch(() => undefined);
    await directory?.close();
    await mesh?.stop();
  });

  it('100 sockets closed at every point of their join leave no participant, router or directory entry', async () => {
    const census = async () =>
      Promise.all(
        mesh.edges.map(async (e) => {
          const view = await nodeView(e.operatorUrl, mesh.operatorToken);
          const sum = (k: 'routers' | 'transports' | 'producers' | 'consumers') =>
            view.workers.reduce((n, w) => n + w[k], 0);
          return {
            participants: view.participants,
            routers: sum('routers'),
            transports: sum('transports'),
            consumers: sum('consumers'),
          };
        }),
      );
    const before = await census();
    const rtpCapabilities = await capabilitiesOf(mesh.edges[0]!.url);
    const tickets = [];
    for (let i = 0; i < 100; i++)
      tickets.push(await ticket(`ghost-${i}`, `ghost-room-${i % 20}`, '127.0.0.2'));
    await Promise.all(
      tickets.map(async (t, i) => {
        const client = await Client.open(t.edgeUrl, '127.0.0.2');
        client.send(1, 'join', { token: t.edgeToken, rtpCapabilities });
        switch (i % 5) {
          case 0: // at once, in the same tick as the join
            client.ws.close();
            break;
          case 1: // without a close handshake
            client.ws.terminate();
            break;
          case 2: // while the token is checked or the room is made
            await new Promise((r) => setTimeout(r, 1 + (i % 7) * 3));
            client.ws.close();
            break;
          case 3:
            await new Promise((r) => setImmediate(r));
            client.ws.terminate();
            break;
          default: // after the answer, without leave
            await client.answer(1).catch(() => undefined);
            client.ws.close();
        }
        await client.closed;
      }),
    );
    // After the empty grace (500 ms) and the directory writes: back to what was there before.
    await eventually(async () => expect(await census()).toEqual(before), 15_000, 250);
    await eventually(
      async () => {
        // Each ghost room's hashes and its entry in the room index.
        for (let i = 0; i < 20; i++) expect(await directory.keys({ room: `ghost-room-${i}` })).toEqual([]);
      },
      10_000,
      250,
    );
    // Every ticket's token id was recorded once (the joins that got that far), to expire with it.
    expect((await directory.keys('tokens')).length).toBeGreaterThanOrEqual(20);
    console.log(`mid-join closes: census per edge before and after ${JSON.stringify(before)}`);
    await keepsFlowing(bystander.stream);
  }, 90_000);

  it('a joined socket that pipelines requests and never reads is closed (4413); the edge memory stays bounded', async () => {
    const t = await ticket('hoarder', 'hoard-room', '127.0.0.3');
    const edge = mesh.edges.find((e) => e.url === t.edgeUrl)!;
    const pid = edge.child.pid!;
    const client = await Client.open(t.edgeUrl, '127.0.0.3');
    const caps = await client.request(1, 'getRouterRtpCapabilities');
    expect(await client.request(2, 'join', { token: t.edgeToken, ...(caps.data as object) })).toMatchObject({
      ok: true,
    });
    const rssBefore = rssKb(pid);
    client.ws.pause(); // stops reading: the edge's answers pile up in its socket buffers
    const requests = 300_000;
    for (let id = 10; id < 10 + requests; id++) client.send(id, 'getRouterRtpCapabilities');
    await new Promise((r) => setTimeout(r, 3000));
    const rssDuring = rssKb(pid);
    client.ws.resume();
    const closed = await client.closed;
    await new Promise((r) => setTimeout(r, 1000));
    const rssAfter = rssKb(pid);
    console.log(
      `non-reading socket: edge RSS ${rssBefore} kB before, ${rssDuring} kB while flooded, ${rssAfter} kB after; ` +
        `client read ${client.receivedBytes} bytes in ${client.frames.length} frames for ${requests} requests`,
    );
    // 4413 if the close frame got through; the edge drops the connection 2 s after sending
    // it (it waits behind what the client does not read), which the client sees as 1006.
    expect([CloseCodes.slowReader, 1006]).toContain(closed.code);
    expect(
      await scrapeMetric(edge.operatorUrl, mesh.operatorToken, 'kaskade_signaling_refusals_total', {
        reason: 'slow_reader',
      }),
    ).toBe(1);
    // It got a small part of what it asked for: the edge stopped writing at its bound.
    expect(client.frames.length).toBeLessThan(requests / 2);
    expect(rssDuring - rssBefore).toBeLessThan(100 * 1024);
    expect(rssAfter - rssBefore).toBeLessThan(100 * 1024);
    await keepsFlowing(bystander.stream);
  }, 60_000);

  it('a captured edge token replayed is refused (4401), at its edge and at the other', async () => {
    const t = await ticket('victim', 'lecture-hall', '127.0.0.4');
    const victim = await RtpBot.join(t.edgeUrl, t.edgeToken);
    for (const edge of mesh.edges) {
      const thief = await Client.open(edge.url, '127.0.0.4');
      const caps = await thief.request(1, 'getRouterRtpCapabilities');
      expect(await thief.request(2, 'join', { token: t.edgeToken, ...(caps.data as object) })).toMatchObject({
        ok: false,
        error: { code: 'UNAUTHORIZED' },
      });
      expect((await thief.closed).code).toBe(CloseCodes.unauthorized);
    }
    await victim.close();
    await keepsFlowing(bystander.stream);
  });

  it('an application token with exp 100 years ahead is refused with 401 and the typed body', async () => {
    const forever = await appToken('forever', 'lecture-hall', 100 * 365 * 86_400);
    const answer = await post(join('lecture-hall'), JSON.stringify({ token: forever }), {
      localAddress: '127.0.0.5',
    });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/lifetime/) });
  });

  it('a replayed application token flood gets 429 with Retry-After; honest joins from another address are placed and connect', async () => {
    const replayed = JSON.stringify({ token: await appToken('replayed', 'lecture-hall') });
    // Signed before the flood, so it is sent the moment the flood ends: the address's
    // bucket refills at 5/s, and a signing delay on a loaded machine would let it through.
    const freshJoin = JSON.stringify({ token: await appToken('fresh', 'lecture-hall') });
    const statuses: number[] = [];
    const refusals: { headers: Record<string, unknown>; body: Record<string, unknown> }[] = [];
    // 16 connections, 300 requests, one token.
    let sent = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (sent < 300) {
          sent++;
          const answer = await post(join('lecture-hall'), replayed, { localAddress: '127.0.0.6' });
          statuses.push(answer.status);
          if (answer.status === 429) refusals.push(answer);
        }
      }),
    );
    const fresh = await post(join('lecture-hall'), freshJoin, { localAddress: '127.0.0.6' });
    const placed = statuses.filter((s) => s === 200).length;
    console.log(`token flood: ${placed} of ${statuses.length} placed, ${refusals.length} refused with 429`);
    expect(placed).toBeGreaterThanOrEqual(10); // the identity's burst
    expect(placed).toBeLessThanOrEqual(20);
    expect(refusals.length).toBe(statuses.length - placed);
    expect(refusals[0]!.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(refusals[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Past the address's burst even fresh identities from that address wait.
    expect(fresh.status).toBe(429);
    expect(fresh.body.message).toMatch(/from this address/);
    // Honest people elsewhere: placed at once, none told the mesh is full.
    const honest = [];
    for (let i = 0; i < 10; i++) honest.push(await ticket(`honest-${i}`, 'lecture-hall', '127.0.0.7'));
    const bot = await RtpBot.join(honest[0]!.edgeUrl, honest[0]!.edgeToken);
    const mic = bystander.presenter.senders.keys().next().value as string;
    const stream = await bot.consume({ producerId: mic });
    await keepsFlowing(stream);
    await bot.close();
    await keepsFlowing(bystander.stream);
  }, 60_000);

  it('malformed bodies get 400 and oversized ones 413, typed, and never an error log', async () => {
    const url = join('lecture-hall');
    const opts = { localAddress: '127.0.0.8' };
    for (const bad of ['{not json', '', '[]', '{"token": {}}', '{"token": ""}', 'null']) {
      const answer = await post(url, bad, opts);
      expect(answer.status, bad).toBe(400);
      expect(answer.body, bad).toMatchObject({ code: 'BAD_REQUEST' });
    }
    const big = await post(url, JSON.stringify({ token: 'x'.repeat(2 * 1024 * 1024) }), opts);
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    const unreadable = await post(url, '<token>abc</token>', { ...opts, contentType: 'application/xml' });
    expect(unreadable.status).toBe(415);
    expect(unreadable.body).toMatchObject({ code: 'BAD_REQUEST' });
    // Everyone else still gets in.
    const t = await ticket('after-garbage', 'lecture-hall', '127.0.0.8');
    expect(t.edgeToken).toBeTruthy();
    await keepsFlowing(bystander.stream);
  });

  it('nothing any hostile client did was logged at ERROR by any process', () => {
    expect(errorLines).toEqual([]);
  });
});

describe('placements that never connect (a local mesh whose edge reports only every 30 s)', () => {
  let mesh: LocalMesh;
  beforeAll(async () => {
    mesh = await startLocalMesh({
      regions: { eu: '127.0.3' },
      edgesPerRegion: 1,
      edgeEnv: { KASKADE_HEARTBEAT_MS: '30000', KASKADE_NODE_CAPACITY: '20', KASKADE_LOG_LEVEL: 'warn' },
      controlPlaneEnv: {
        KASKADE_NODE_TIMEOUT_MS: '90000',
        KASKADE_PLACEMENT_HOLD_MS: '1000',
        KASKADE_LOG_LEVEL: 'warn',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await mesh?.stop();
  });

  it('count toward the edge only for the hold time: a burst of tickets nobody uses cannot keep it full', async () => {
    const ask = async (identity: string) =>
      post(
        `${mesh.controlPlane.url}${httpJoinPath('hold-room')}`,
        JSON.stringify({
          token: await issueToken(
            { identity, name: identity, room: 'hold-room', grants: ALL_GRANTS },
            { secret: mesh.appJwtSecret },
          ),
        }),
      );
    // The edge takes 20; its next heartbeat is 30 s away, so only the placements count.
    for (let i = 0; i < 20; i++) expect((await ask(`unused-${i}`)).status).toBe(200);
    const full = await ask('one-too-many');
    expect(full.status).toBe(503);
    expect(full.body).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/all-full/) });
    await new Promise((r) => setTimeout(r, 1200));
    const later = await ask('honest');
    expect(later.status).toBe(200);
  });
});
