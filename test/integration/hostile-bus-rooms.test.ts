import { Bus } from '@kaskade/node-toolkit';
import { RoomEvent, Subjects } from '@kaskade/protocol';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { attacker, ROOM, useHostileBusMesh } from '../helpers/hostile-bus.ts';
import { metricValue } from '../helpers/metrics.ts';

// An attacker on the NATS bus of a running mesh, at the level of rooms: forged room events,
// sessions of one identity, refused subscriptions. (Nodes and links: hostile-bus-nodes.test.ts.)
const hostile = useHostileBusMesh();
const { credentialsOf, everyoneReceives, joinedSeen, joinEdge, refusedNodes } = hostile;

describe('an attacker on the NATS bus of a running mesh: rooms and sessions', () => {
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
        { type: 'roleChanged', participantId: audience.id, role: 'stage', by: hostile.publisher.id },
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
      { type: 'roleChanged', participantId: audience.id, role: 'stage', by: hostile.publisher.id },
      { type: 'roleChanged', participantId: audience.id, role: 'stage' },
      { type: 'participantLeft', participantId: hostile.publisher.id },
      { type: 'streamClosed', producerId: hostile.mic },
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
    await hostile.publisher.channel.request('setRole', { participantId: audience.id, role: 'stage' });
    await eventually(() => expect(promotions).toHaveLength(1));
    expect(promotions[0]).toMatchObject({
      participantId: audience.id,
      role: 'stage',
      grants: { publish: true, publishSources: ['camera', 'microphone', 'screen'] },
    });
    await expect(audience.publish('screen_audio')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const promotedMic = await audience.publish('microphone');
    await eventually(() => expect(hostile.publisher.seen.streamAdded).toContain(promotedMic));
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
