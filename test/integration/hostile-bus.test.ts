import { connect as tcpConnect } from 'node:net';
import { RtpBot } from '@kaskade/load-tools';
import { type LocalMesh, type MeshEdge, startLocalMesh } from '@kaskade/local-mesh';
import type { BusSettings } from '@kaskade/node-toolkit';
import { Bus, connectionOptions, issueToken } from '@kaskade/node-toolkit';
import type { Grants } from '@kaskade/protocol';
import { type HttpJoinReply, httpJoinPath, RoomEvent, Subjects } from '@kaskade/protocol';
import { connect } from '@nats-io/transport-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { heartbeat } from '../helpers/heartbeats.ts';
import { FAST_CONTROL_PLANE_ENV, FAST_MESH_ENV, nodeView } from '../helpers/mesh.ts';
import { metricValue, scrapeMetric } from '../helpers/metrics.ts';

/**
 * An attacker on the bus of a running mesh (TLS and a user per node, as the local
 * mesh runs it): every forged message is refused by nats-server's permissions or
 * ignored by its receivers, and media keeps flowing for everyone all along.
 */
const ROOM = 'hostile';
const ATTACKER_URL = 'http://127.0.0.66:6666';
let mesh: LocalMesh;
const bots: RtpBot[] = [];
const viewers: { bot: RtpBot; node: string; stream: { packets: number } }[] = [];
let publisher: RtpBot;
let mic: string;
/** Log lines of mesh processes that nats-server refused something (their permissions fall short). */
const refusedNodes: string[] = [];
/** Participant ids every bot was told about, for spotting a forged one. */
const joinedSeen = new Set<string>();

const edge = (id: string): MeshEdge => [...mesh.edges, ...mesh.relays].find((e) => e.nodeId === id)!;

async function joinEdge(nodeId: string, identity: string, grants: Grants, role?: 'stage' | 'audience') {
  const token = await issueToken(
    { identity, name: identity, room: ROOM, grants, node: nodeId, role, ttlSeconds: 60 },
    { secret: mesh.edgeJwtSecret },
  );
  const bot = await RtpBot.join(edge(nodeId).url, token);
  bot.channel.on('participantJoined', ({ id }) => joinedSeen.add(id));
  bots.push(bot);
  return bot;
}

/** Every viewer receives at least `min` more packets within the time. */
async function everyoneReceives(min = 25, timeoutMs = 8000) {
  const before = viewers.map((v) => v.stream.packets);
  await eventually(() => {
    for (const [i, v] of viewers.entries())
      expect(v.stream.packets - before[i]!, `viewer on ${v.node}`).toBeGreaterThanOrEqual(min);
  }, timeoutMs);
  for (const v of viewers) expect(v.bot.seen.streamClosed).not.toContain(mic);
}

/** A client connection as the holder of `settings` would make it, with every refusal it is told of. */
async function attacker(settings: BusSettings, name: string) {
  const nc = await connect({
    ...connectionOptions(settings, name),
    waitOnFirstConnect: false,
    maxReconnectAttempts: 0,
    timeout: 3000,
  });
  const refusals: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') refusals.push(String(s.error?.message));
  })();
  return { nc, refusals };
}

/** A node's own credentials (what an attacker holding them could use). */
const credentialsOf = (id: string) => mesh.nats!.settingsFor(id);

const forgedHeartbeat = (url: string) => heartbeat({ url, capacity: 100_000, rooms: [ROOM], ts: Date.now() });

async function placements(count: number): Promise<string[]> {
  const urls: string[] = [];
  for (let i = 0; i < count; i++) {
    const token = await issueToken(
      {
        identity: `probe-${i}-${Date.now()}`,
        name: 'probe',
        room: `probe-room-${i}`,
        grants: { publish: true, subscribe: true },
      },
      { secret: mesh.appJwtSecret },
    );
    const response = await fetch(`${mesh.controlPlane.url}${httpJoinPath(`probe-room-${i}`)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, region: 'eu' }),
    });
    expect(response.status).toBe(200);
    urls.push(((await response.json()) as HttpJoinReply).edgeUrl);
  }
  return urls;
}

beforeAll(async () => {
  mesh = await startLocalMesh({
    relaysPerRegion: 1,
    edgeEnv: {
      ...FAST_MESH_ENV,
    },
    controlPlaneEnv: FAST_CONTROL_PLANE_ENV,
    log: (source, line) => {
      if (line.includes('NATS refused an operation')) refusedNodes.push(`${source}: ${line}`);
    },
  });
  // The publisher on edge-us-1; viewers in the other region come through relay-eu-1
  // (two eu edges carry the room), the one in its own region straight from the origin.
  publisher = await joinEdge('edge-us-1', 'publisher', { publish: true, subscribe: true, moderate: true });
  mic = await publisher.publish('microphone');
  for (const node of ['edge-eu-1', 'edge-eu-2', 'edge-us-2']) {
    const bot = await joinEdge(node, `viewer-${node}`, { publish: false, subscribe: true });
    await eventually(() =>
      expect([...bot.joined.streams.map((s) => s.producerId), ...bot.seen.streamAdded]).toContain(mic),
    );
    viewers.push({ bot, node, stream: await bot.consume({ producerId: mic }) });
  }
  await everyoneReceives();
  // The eu edges really take the stream from the relay (the path a forged closeLink would cut).
  await eventually(async () => {
    const view = await nodeView(edge('edge-eu-1').operatorUrl, mesh.operatorToken);
    expect(view.links.map((l) => l.remoteNode)).toEqual(['relay-eu-1']);
  }, 10_000);
}, 120_000);

afterAll(async () => {
  for (const bot of bots) await bot.close().catch(() => undefined);
  await mesh?.stop();
});

describe('an attacker on the NATS bus of a running mesh', () => {
  it('a connection without credentials is refused by nats-server', async () => {
    const { natsUser: _u, natsPassword: _p, ...anonymous } = credentialsOf('edge-eu-1');
    await expect(attacker(anonymous, 'anonymous')).rejects.toThrow(/authoriz/i);
    const wrong = { ...credentialsOf('edge-eu-1'), natsPassword: 'not-the-password' };
    await expect(attacker(wrong, 'guesser')).rejects.toThrow(/authoriz/i);
    await everyoneReceives();
  });

  it('a connection without TLS is refused by nats-server, even with good credentials', async () => {
    const { natsUser, natsPassword } = credentialsOf('edge-eu-1');
    // Plain text straight on the socket: what a client that skips TLS sends.
    const { text, closedByServer } = await new Promise<{ text: string; closedByServer: boolean }>(
      (resolve, reject) => {
        const socket = tcpConnect(mesh.nats!.port, '127.0.0.1');
        let text = '';
        let sent = false;
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
          if (sent) return;
          sent = true;
          socket.write(
            `CONNECT ${JSON.stringify({ user: natsUser, pass: natsPassword, verbose: true })}\r\nPING\r\n`,
          );
        });
        const timer = setTimeout(() => {
          socket.destroy();
          resolve({ text, closedByServer: false });
        }, 5000);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve({ text, closedByServer: true });
        });
        socket.on('error', reject);
      },
    );
    expect(text).toMatch(/^INFO .*"tls_required":true/);
    // The server expects a TLS handshake and hangs up on the plain CONNECT: no +OK, no PONG.
    expect(text).not.toMatch(/\+OK|PONG/);
    expect(closedByServer).toBe(true);
    await everyoneReceives();
  });

  it('a forged heartbeat for a new node id is refused; placement never hands out its URL', async () => {
    const { nc, refusals } = await attacker(credentialsOf('edge-us-2'), 'edge-us-2');
    const subject = Subjects.heartbeat('edge-eu-9');
    const timer = setInterval(() => nc.publish(subject, JSON.stringify(forgedHeartbeat(ATTACKER_URL))), 100);
    try {
      await eventually(() => expect(refusals.join('\n')).toContain(`Publish to "${subject}"`));
      const urls = await placements(10);
      expect(urls).not.toContain(ATTACKER_URL);
      for (const url of urls) expect(mesh.edges.map((e) => e.url)).toContain(url);
    } finally {
      clearInterval(timer);
      await nc.close();
    }
    await everyoneReceives();
  });

  it('a forged heartbeat for an existing node: refused with another node’s credentials, ignored with its own', async () => {
    const other = await attacker(credentialsOf('edge-us-2'), 'edge-us-2');
    const own = await attacker(credentialsOf('edge-eu-2'), 'edge-eu-2');
    const subject = Subjects.heartbeat('edge-eu-2');
    // Claims an idle edge-eu-2 at the attacker's URL, many times a second.
    const timer = setInterval(() => {
      other.nc.publish(subject, JSON.stringify(forgedHeartbeat(ATTACKER_URL)));
      own.nc.publish(subject, JSON.stringify(forgedHeartbeat(ATTACKER_URL)));
    }, 50);
    try {
      await eventually(() => expect(other.refusals.join('\n')).toContain(`Publish to "${subject}"`));
      await new Promise((r) => setTimeout(r, 300));
      const urls = await placements(20);
      expect(urls).not.toContain(ATTACKER_URL);
      // The claimed edge is still placed, at the URL the operator configured for it.
      expect(urls).toContain(edge('edge-eu-2').url);
      for (const url of urls) expect(mesh.edges.map((e) => e.url)).toContain(url);
      expect(own.refusals).toEqual([]);
    } finally {
      clearInterval(timer);
      await other.nc.close();
      await own.nc.close();
    }
    await everyoneReceives();
  });

  it('a forged node-dead for the live origin, from a node’s credentials, is refused', async () => {
    const { nc, refusals } = await attacker(credentialsOf('edge-eu-1'), 'edge-eu-1');
    nc.publish(Subjects.nodeDead, JSON.stringify({ nodeId: 'edge-us-1', reason: 'forged' }));
    nc.publish(Subjects.nodeDead, JSON.stringify({ nodeId: 'relay-eu-1', reason: 'forged' }));
    await eventually(() => expect(refusals.join('\n')).toContain(`Publish to "${Subjects.nodeDead}"`));
    await nc.close();
    await everyoneReceives(50);
  });

  it('a forged pipe.closeLink claiming to be the relay is refused; the region keeps its stream', async () => {
    const { nc, refusals } = await attacker(credentialsOf('edge-us-2'), 'edge-us-2');
    for (const target of ['edge-eu-1', 'edge-eu-2']) {
      const subject = Subjects.nodeRpc(target, 'pipe.closeLink', 'relay-eu-1');
      await expect(nc.request(subject, JSON.stringify({ room: ROOM }), { timeout: 1500 })).rejects.toThrow();
      await eventually(() => expect(refusals.join('\n')).toContain(`Publish to "${subject}"`));
    }
    // The relay's own credentials cannot be borrowed without its password either.
    const guessed = { ...credentialsOf('relay-eu-1'), natsPassword: credentialsOf('edge-us-2').natsPassword };
    await expect(attacker(guessed, 'relay-eu-1')).rejects.toThrow(/authoriz/i);
    await nc.close();
    await everyoneReceives(50);
  });

  it('pipe.openLink/consume without node credentials, or claiming another node, get no SRTP key', async () => {
    const endpoint = {
      ip: '127.0.0.1',
      port: 9,
      srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: Buffer.alloc(44).toString('base64') },
    };
    const openLink = JSON.stringify({ room: ROOM, region: 'eu', endpoint });
    // The control plane's credentials are not a node's: they may not ask for pipes at all.
    const cp = await attacker(credentialsOf('control-plane'), 'control-plane');
    const asCp = Subjects.nodeRpc('edge-us-1', 'pipe.openLink', 'control-plane');
    await expect(cp.nc.request(asCp, openLink, { timeout: 1500 })).rejects.toThrow();
    await eventually(() => expect(cp.refusals.join('\n')).toContain(`Publish to "${asCp}"`));
    await cp.nc.close();

    const node = await attacker(credentialsOf('edge-us-2'), 'edge-us-2');
    // Claiming to be edge-eu-1 in the subject: refused.
    for (const method of ['pipe.openLink', 'pipe.consume'] as const) {
      const subject = Subjects.nodeRpc('edge-us-1', method, 'edge-eu-1');
      const body = method === 'pipe.openLink' ? openLink : JSON.stringify({ room: ROOM, producerId: mic });
      await expect(node.nc.request(subject, body, { timeout: 1500 })).rejects.toThrow();
      await eventually(() => expect(node.refusals.join('\n')).toContain(`Publish to "${subject}"`));
    }
    // Listening where edge-eu-1's answers arrive: refused.
    node.nc.subscribe(`${Subjects.inboxPrefix('edge-eu-1')}.>`);
    await eventually(() =>
      expect(node.refusals.join('\n')).toContain(`Subscription to "${Subjects.inboxPrefix('edge-eu-1')}.>"`),
    );
    // Its own subject but the answer addressed to edge-eu-1's inbox: the origin drops it unanswered.
    const dropped = () =>
      scrapeMetric(
        edge('edge-us-1').operatorUrl,
        mesh.operatorToken,
        'kaskade_nats_malformed_messages_total',
      );
    const before = await dropped();
    node.nc.publish(Subjects.nodeRpc('edge-us-1', 'pipe.openLink', 'edge-us-2'), openLink, {
      reply: `${Subjects.inboxPrefix('edge-eu-1')}.stolen`,
    });
    await eventually(async () => expect(await dropped()).toBe(before + 1));
    await node.nc.close();
    await everyoneReceives(50);
  });

  it('forged room events: a made-up participant and a role change letting an audience member publish are refused or ignored', async () => {
    const audience = await joinEdge('edge-eu-1', 'audience-member', { publish: false, subscribe: true });
    expect(audience.joined.self.role).toBe('audience');
    const promotions: unknown[] = [];
    audience.channel.on('roleChanged', (data) => promotions.push(data));
    const fake = { id: 'fake-participant', identity: 'fake', name: 'Totally Real', role: 'stage' as const };
    const events: [subject: string, event: RoomEvent][] = [
      [Subjects.roomEvents(ROOM, 'edge-eu-1'), { type: 'participantJoined', participant: fake }],
      [
        Subjects.roomEvents(ROOM, 'edge-eu-1'),
        { type: 'roleChanged', participantId: audience.id, role: 'stage', by: publisher.id },
      ],
    ];
    // With another node's credentials, as edge-eu-1: refused.
    const node = await attacker(credentialsOf('edge-us-2'), 'edge-us-2');
    for (const [subject, event] of events) node.nc.publish(subject, JSON.stringify(event));
    await eventually(() =>
      expect(node.refusals.join('\n')).toContain(`Publish to "${Subjects.roomEvents(ROOM, 'edge-eu-1')}"`),
    );
    // A relay's credentials carry no room events at all.
    const relay = await attacker(credentialsOf('relay-eu-1'), 'relay-eu-1');
    const asRelay = Subjects.roomEvents(ROOM, 'relay-eu-1');
    relay.nc.publish(asRelay, JSON.stringify(events[0]![1]));
    await eventually(() => expect(relay.refusals.join('\n')).toContain(`Publish to "${asRelay}"`));
    await relay.nc.close();
    // On edge-us-2's own subject: a role change for someone it does not host, asked by
    // no moderator it hosts, or announced as applied: ignored.
    const own = Subjects.roomEvents(ROOM, 'edge-us-2');
    const forged: RoomEvent[] = [
      { type: 'roleChanged', participantId: audience.id, role: 'stage', by: 'made-up-moderator' },
      { type: 'roleChanged', participantId: audience.id, role: 'stage', by: publisher.id },
      { type: 'roleChanged', participantId: audience.id, role: 'stage' },
      { type: 'participantLeft', participantId: publisher.id },
      { type: 'streamClosed', producerId: mic },
    ];
    for (const event of forged) node.nc.publish(own, JSON.stringify(event));
    await node.nc.flush();
    await new Promise((r) => setTimeout(r, 1500)); // a resync round too
    expect(node.refusals.filter((r) => r.includes(own))).toEqual([]);
    await node.nc.close();

    expect(promotions).toEqual([]);
    expect(joinedSeen.has(fake.id)).toBe(false);
    await expect(audience.publish('microphone')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await everyoneReceives();

    // The real path still works: the moderator on edge-us-1 promotes them, within the stage policy.
    await publisher.channel.request('setRole', { participantId: audience.id, role: 'stage' });
    await eventually(() => expect(promotions).toHaveLength(1));
    expect(promotions[0]).toMatchObject({
      participantId: audience.id,
      role: 'stage',
      grants: { publish: true, publishSources: ['camera', 'microphone', 'screen'] },
    });
    await expect(audience.publish('screen_audio')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const promotedMic = await audience.publish('microphone');
    await eventually(() => expect(publisher.seen.streamAdded).toContain(promotedMic));
  });

  it('one identity in a room across the mesh: joining on another edge replaces the earlier session (4409)', async () => {
    const first = await joinEdge('edge-eu-2', 'twice', { publish: true, subscribe: true });
    const closed = new Promise<number>((resolve) => first.channel.on('close', (code) => resolve(code)));
    await eventually(() => expect(joinedSeen.has(first.id)).toBe(true));
    const second = await joinEdge('edge-us-2', 'twice', { publish: true, subscribe: true });
    expect(await closed).toBe(4409);
    await eventually(() => expect(joinedSeen.has(second.id)).toBe(true));
    expect(second.channel.open).toBe(true);
    await everyoneReceives();
  });

  it('two joins of one identity on two edges at the same moment end with exactly one session', async () => {
    for (let round = 0; round < 5; round++) {
      const pair = await Promise.all(
        ['edge-eu-2', 'edge-us-2'].map((node) =>
          joinEdge(node, `at-once-${round}`, { publish: true, subscribe: true }),
        ),
      );
      const codes: number[] = [];
      for (const bot of pair) bot.channel.on('close', (code) => codes.push(code));
      await eventually(() => expect(pair.filter((b) => b.channel.open)).toHaveLength(1));
      await new Promise((r) => setTimeout(r, 1200)); // past a resync round: still exactly one
      expect(pair.filter((b) => b.channel.open)).toHaveLength(1);
      expect(codes).toEqual([4409]);
    }
    await everyoneReceives();
  });

  it('a subscription the bus refuses is an error someone sees: logged at ERROR and counted', async () => {
    // A relay's credentials may not read room events: what a misconfigured node would hit.
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const registry = new Registry();
    const bus = await Bus.connect(credentialsOf('relay-eu-1'), 'relay-eu-1', logger, registry);
    try {
      bus.subscribe(Subjects.roomEvents(ROOM, '*'), RoomEvent, () => undefined);
      await eventually(async () =>
        expect(
          metricValue((await registry.metrics()).split('\n'), 'kaskade_nats_subscription_failures_total'),
        ).toBe(1),
      );
      const failure = lines
        .map((l) => JSON.parse(l))
        .find((l) => l.msg.startsWith('NATS subscription failed'));
      expect(failure).toMatchObject({ level: 50, subject: Subjects.roomEvents(ROOM, '*') });
    } finally {
      await bus.close();
    }
    await everyoneReceives();
  });

  it('the nodes themselves were never refused anything: their permissions cover what they do', () => {
    expect(refusedNodes).toEqual([]);
  });
});
