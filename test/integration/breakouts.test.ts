import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestError } from '@kaskade/client-sdk';
import { Directory } from '@kaskade/directory';
import { joinThroughControlPlane, type Placed, RtpBot } from '@kaskade/load-tools';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import { Bus, verifyWebhook } from '@kaskade/node-toolkit';
import {
  type BreakoutState,
  type Grants,
  KaskadeError,
  type NotificationData,
  RoomEvent,
  Subjects,
  type WebhookEvent,
  WebhookHeaders,
} from '@kaskade/protocol';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { FAST_CONTROL_PLANE_ENV, FAST_MESH_ENV } from '../helpers/mesh.ts';

// The moderator's actions go as signaling requests to its edge, which forwards them over
// ControlRpc 'room.act' to the control plane's executor; the edges hear the effects on
// room control. Everything is a real process.

const MODERATOR: Grants = { publish: true, subscribe: true, moderate: true };
const PARTICIPANT: Grants = { publish: true, subscribe: true };
const silent = pino({ level: 'silent' });

let mesh: LocalMesh;
let directory: Directory;
let bots: RtpBot[] = [];
const WEBHOOK_SECRET = randomBytes(24).toString('hex');
/** The application's webhook receiver: every request, signature headers and body. */
const webhooks: { headers: IncomingHttpHeaders; body: string }[] = [];
const receiver = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => {
    body += chunk;
  });
  request.on('end', () => {
    webhooks.push({ headers: request.headers, body });
    response.writeHead(200).end();
  });
});

/** The breakout webhooks about `room` the receiver got, signature checked. */
function breakoutWebhooks(room: string): WebhookEvent[] {
  return webhooks.flatMap(({ headers, body }) => {
    const event = JSON.parse(body) as WebhookEvent;
    if (event.room !== room || !event.type.startsWith('breakouts')) return [];
    const signed = {
      signature: headers[WebhookHeaders.signature] as string,
      timestamp: headers[WebhookHeaders.timestamp] as string,
      body,
    };
    expect(verifyWebhook({ secrets: [WEBHOOK_SECRET], ...signed })).toBe(true);
    return [event];
  });
}

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/kaskade`;
  mesh = await startLocalMesh({
    edgeEnv: FAST_MESH_ENV,
    controlPlaneEnv: {
      ...FAST_CONTROL_PLANE_ENV,
      KASKADE_WEBHOOK_URL: webhookUrl,
      KASKADE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  });
  directory = new Directory(mesh.redisUrl, silent);
}, 60_000);
afterEach(async () => {
  for (const bot of bots) await bot.close().catch(() => undefined);
  bots = [];
});
afterAll(async () => {
  await directory?.close();
  await mesh?.stop();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

/** A participant of `room` with everything the breakouts tell it recorded. */
interface Member {
  placed: Placed;
  bot: RtpBot;
  moves: NotificationData<'moveToRoom'>[];
  broadcasts: string[];
  help: NotificationData<'helpRequested'>[];
  states: BreakoutState[];
}

async function join(identity: string, room: string, region: string, grants = PARTICIPANT): Promise<Member> {
  const placed = await joinThroughControlPlane(mesh.controlPlane.url, mesh.appJwtSecret, identity, room, {
    region,
    grants,
  });
  bots.push(placed.bot);
  return listen({ placed, bot: placed.bot, moves: [], broadcasts: [], help: [], states: [] });
}

function listen(member: Member): Member {
  const { channel } = member.bot;
  channel.on('moveToRoom', (move) => member.moves.push(move));
  channel.on('breakoutBroadcast', ({ text }) => member.broadcasts.push(text));
  channel.on('helpRequested', (help) => member.help.push(help));
  channel.on('breakoutsChanged', (state) => member.states.push(state));
  return member;
}

/** Follows the member's last move: joins the room it names with its ticket (no resume: another room), then leaves the old one. */
async function follow(member: Member): Promise<Member> {
  const move = member.moves.at(-1)!;
  const bot = await RtpBot.join(move.url, move.token);
  bots.push(bot);
  expect(bot.joined.room).toBe(move.room);
  await member.bot.close();
  return listen({ ...member, bot, moves: [], broadcasts: [], help: [], states: [] });
}

const identities = (state: BreakoutState) => state.rooms.map((r) => [...r.identities].sort());

describe('breakout rooms over two edges in two regions', () => {
  it('create, assign by hand and at random, open (moves to every breakout), broadcast, ask for help, refusals of breakout.place, close brings everyone back; the keys expire', async () => {
    const main = 'bo-main';
    const host = await join('host', main, 'eu', MODERATOR);
    const people = [
      await join('ana', main, 'eu'),
      await join('ben', main, 'us'),
      await join('cleo', main, 'eu'),
      await join('dan', main, 'us'),
    ];
    const hostNode = host.placed.nodeId;

    const { state: created } = await host.bot.channel.request('createBreakouts', {
      count: 2,
      names: ['Red', 'Blue'],
    });
    expect(created.status).toBe('created');
    expect(created.rooms.map((r) => r.name)).toEqual(['Red', 'Blue']);
    const [red, blue] = created.rooms.map((r) => r.room) as [string, string];
    for (const room of [red, blue]) {
      expect(room.startsWith(`${main}-bo`)).toBe(true);
      expect(await directory.breakouts.parentOf(room)).toBe(main);
    }
    await eventually(() => expect(host.states.at(-1)?.status).toBe('created'));

    // At random: everyone but the moderator, balanced.
    const { state: random } = await host.bot.channel.request('assignBreakouts', { random: true });
    expect(random.rooms.map((r) => r.identities.length).sort()).toEqual([2, 2]);
    expect(random.rooms.flatMap((r) => r.identities).sort()).toEqual(['ana', 'ben', 'cleo', 'dan']);
    // By hand: one from each region in each room.
    const [ana, ben, cleo, dan] = people as [Member, Member, Member, Member];
    const { state: assigned } = await host.bot.channel.request('assignBreakouts', {
      assignments: [
        { participantId: ana.bot.id, room: red },
        { participantId: ben.bot.id, room: red },
        { participantId: cleo.bot.id, room: blue },
        { participantId: dan.bot.id, room: blue },
      ],
    });
    expect(identities(assigned)).toEqual([
      ['ana', 'ben'],
      ['cleo', 'dan'],
    ]);
    await expect(
      host.bot.channel.request('assignBreakouts', {
        assignments: [{ participantId: 'nobody-here', room: red }],
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // A participant sees only its own breakout room.
    expect(await ana.bot.channel.request('breakoutState', {})).toMatchObject({
      status: 'created',
      rooms: [{ room: red, identities: ['ana', 'ben'] }],
    });
    expect((await host.bot.channel.request('breakoutState', {})).rooms).toHaveLength(2);

    // Open: each assigned participant is told to go to its breakout; the moderator stays.
    const { state: opened } = await host.bot.channel.request('openBreakouts', {});
    expect(opened.status).toBe('open');
    await eventually(() => {
      for (const m of people) expect(m.moves).toHaveLength(1);
    });
    expect(host.moves).toEqual([]);
    expect(people.map((m) => [m.moves[0]!.room, m.moves[0]!.reason])).toEqual([
      [red, 'breakout'],
      [red, 'breakout'],
      [blue, 'breakout'],
      [blue, 'breakout'],
    ]);
    await expect(host.bot.channel.request('openBreakouts', {})).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    // One after another, so that each finds those before it in its breakout.
    const moved: Member[] = [];
    for (const m of people) moved.push(await follow(m));
    const [ana2, ben2, cleo2, dan2] = moved as [Member, Member, Member, Member];
    // In the breakout: the roster is the breakout's, media flows there across regions.
    expect(ben2.bot.joined.participants.map((p) => p.identity).sort()).toEqual(['ana']);
    const mic = await ana2.bot.publish('microphone');
    await eventually(() => expect(ben2.bot.seen.streamAdded).toContain(mic));
    const audio = await ben2.bot.consume({ producerId: mic });
    await eventually(() => expect(audio.packets).toBeGreaterThan(10));
    await eventually(async () =>
      expect((await directory.room(main)).participants.map((p) => p.identity)).toEqual(['host']),
    );

    // The ticket is single use and bound to its edge.
    await expect(RtpBot.join(people[0]!.moves[0]!.url, people[0]!.moves[0]!.token)).rejects.toThrow();

    // Broadcast reaches every breakout, not the main room.
    await host.bot.channel.request('broadcastToBreakouts', { text: 'five minutes left' });
    await eventually(() => {
      for (const m of moved) expect(m.broadcasts).toEqual(['five minutes left']);
    });
    expect(host.broadcasts).toEqual([]);

    // Ask for help from a breakout in the other region: the main room's moderator hears it, once per cooldown.
    await dan2.bot.channel.request('askForHelp', {});
    await eventually(() =>
      expect(host.help).toEqual([{ room: blue, participantId: dan2.bot.id, name: 'dan' }]),
    );
    await expect(dan2.bot.channel.request('askForHelp', {})).rejects.toSatisfy(
      (e) => e instanceof RequestError && e.code === 'RATE_LIMITED',
    );
    await expect(host.bot.channel.request('askForHelp', {})).rejects.toSatisfy(
      (e) => e instanceof RequestError && e.code === 'INVALID_STATE',
    );

    // Trust: an edge cannot make up a help request for someone it does not host, nor get tickets for others.
    // dan (us) and cleo (eu) are in one breakout on two edges: dan's edge hosts dan, not cleo.
    const otherNode = dan2.bot.joined.node;
    expect(otherNode).not.toBe(cleo2.bot.joined.node);
    const intruder = await Bus.connect(mesh.nats!.settingsFor(otherNode), otherNode, silent);
    const hostEdge = await Bus.connect(mesh.nats!.settingsFor(hostNode), hostNode, silent);
    try {
      intruder.publish(Subjects.roomEvents(main, otherNode), RoomEvent, {
        type: 'breakoutHelp',
        participantId: cleo2.bot.id,
        fromRoom: blue,
      });
      const notHosted = intruder.controlRpc('breakout.place', {
        room: blue,
        participantId: cleo2.bot.id,
        target: main,
        grants: PARTICIPANT,
        lecture: false,
      });
      await expect(notHosted).rejects.toBeInstanceOf(KaskadeError);
      await expect(notHosted).rejects.toMatchObject({ code: 'FORBIDDEN' });
      // One it hosts, to a room the plan does not give it: the other breakout.
      await expect(
        intruder.controlRpc('breakout.place', {
          room: blue,
          participantId: dan2.bot.id,
          target: red,
          grants: PARTICIPANT,
          lecture: false,
        }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      // The moderator's edge, for the moderator, into a breakout nobody assigned it to.
      await expect(
        hostEdge.controlRpc('breakout.place', {
          room: main,
          participantId: host.bot.id,
          target: red,
          grants: MODERATOR,
          lecture: false,
        }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      // What the plan allows is granted: dan's way back to the main room.
      const back = await intruder.controlRpc('breakout.place', {
        room: blue,
        participantId: dan2.bot.id,
        target: main,
        grants: PARTICIPANT,
        lecture: false,
      });
      expect(back.token.length).toBeGreaterThan(0);
    } finally {
      await intruder.close();
      await hostEdge.close();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(host.help).toHaveLength(1);

    // Room state: every key expires within the room-state TTL.
    const stateKeys = (await directory.keys('rooms')).filter((k) => k.key.includes(':state:breakouts:'));
    expect(stateKeys.map((k) => k.part).sort()).toEqual(['parent', 'parent', 'plan']);
    for (const k of stateKeys) {
      expect(k.ttlSeconds).toBeGreaterThan(0);
      expect(k.ttlSeconds).toBeLessThanOrEqual(86_400);
    }

    // Close: everyone comes back to the main room.
    await host.bot.channel.request('closeBreakouts', {});
    await eventually(() => {
      for (const m of moved) expect(m.moves.map((x) => [x.room, x.reason])).toEqual([[main, 'return']]);
    });
    const back = await Promise.all(moved.map(follow));
    await eventually(async () =>
      expect((await directory.room(main)).participants.map((p) => p.identity).sort()).toEqual([
        'ana',
        'ben',
        'cleo',
        'dan',
        'host',
      ]),
    );
    await eventually(() => expect(host.states.at(-1)).toEqual({ status: 'none', rooms: [], endsAt: null }));
    expect(await directory.breakouts.state(main)).toBeNull();
    await expect(host.bot.channel.request('broadcastToBreakouts', { text: 'late' })).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    for (const m of back) expect(m.bot.joined.room).toBe(main);
    // The application heard both, signed.
    await eventually(() =>
      expect(breakoutWebhooks(main).map((e) => e.type)).toEqual(['breakoutsOpened', 'breakoutsClosed']),
    );
    const [openedHook, closedHook] = breakoutWebhooks(main);
    expect(openedHook!.data).toEqual({ rooms: opened.rooms, endsAt: null });
    expect(closedHook!.data).toEqual({ rooms: [red, blue] });
  }, 60_000);

  it('the timer closes open breakouts by itself, exactly once, though every edge holds it', async () => {
    const main = 'bo-timer';
    const host = await join('host', main, 'eu', MODERATOR);
    const people = [await join('eve', main, 'eu'), await join('finn', main, 'us')];
    await host.bot.channel.request('createBreakouts', { count: 1 });
    await host.bot.channel.request('assignBreakouts', { random: true });
    // Long enough that the rejoin below lands while they are open, on a loaded CI machine too
    // (at 5 s it once came after the timer had closed them).
    const { state } = await host.bot.channel.request('openBreakouts', { durationSeconds: 8 });
    expect(state.endsAt).toBeGreaterThan(Date.now());
    await eventually(() => {
      for (const m of people) expect(m.moves).toHaveLength(1);
    });
    const moved = await Promise.all(people.map(follow));
    // Someone who comes back through the main room (a reconnect with the application's
    // token, as the SDK's) is sent on to its breakout while they are open.
    await moved[1]!.bot.close();
    const again = await join('finn', main, 'us');
    await eventually(() =>
      expect(again.moves.map((m) => [m.room, m.reason])).toEqual([[state.rooms[0]!.room, 'breakout']]),
    );
    moved[1] = await follow(again);
    await eventually(() => {
      for (const m of moved) expect(m.moves.map((x) => x.reason)).toEqual(['return']);
    }, 13_000);
    expect(Date.now()).toBeGreaterThanOrEqual(state.endsAt!);
    // Both edges carry the rooms and asked; a second round of moves never comes.
    await new Promise((r) => setTimeout(r, 2500));
    for (const m of moved) expect(m.moves).toHaveLength(1);
    expect(await directory.breakouts.state(main)).toBeNull();
    expect(breakoutWebhooks(main).map((e) => e.type)).toEqual(['breakoutsOpened', 'breakoutsClosed']);
    // A moderator's close after the timer finds nothing to close.
    await host.bot.channel.request('closeBreakouts', {});
    await new Promise((r) => setTimeout(r, 300));
    for (const m of moved) expect(m.moves).toHaveLength(1);
  }, 40_000);

  it('refusals: a participant without the moderate grant cannot create or open breakouts; no open before create', async () => {
    const main = 'bo-refusals';
    const host = await join('host', main, 'eu', MODERATOR);
    const guest = await join('guest', main, 'us');
    for (const [method, data] of [
      ['createBreakouts', { count: 2 }],
      ['openBreakouts', {}],
    ] as const) {
      await expect(guest.bot.channel.request(method, data as never)).rejects.toSatisfy(
        (e) => e instanceof RequestError && e.code === 'FORBIDDEN',
      );
    }
    await expect(host.bot.channel.request('openBreakouts', {})).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    await expect(host.bot.channel.request('assignBreakouts', { random: true })).rejects.toMatchObject({
      code: 'INVALID_STATE',
    });
    expect(await directory.breakouts.state(main)).toBeNull();
    expect(guest.states).toEqual([]);
  }, 30_000);
});
