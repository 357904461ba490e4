import { RequestError } from '@kaskade/client-sdk';
import { CloseCodes } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { nodeView } from '../helpers/mesh.ts';
import {
  joinEdgeDirectly,
  MODERATOR,
  placeJoin,
  TEST_JOIN_TIMEOUT_MS,
  TEST_STATE_GRACE_SECONDS,
  useModerationMesh,
  Waiter,
} from '../helpers/moderation.ts';

const m = useModerationMesh();
const code = (e: unknown) => (e instanceof RequestError ? e.code : String(e));

describe('moderation across two regions (actions over the application API, effects at every edge)', () => {
  it('mute with forbid: paused at the server for everyone, unmute refused until asked; a screen mute stops it', async () => {
    const room = 'mod-mute';
    const host = await m.join('host', room, 'eu', MODERATOR);
    const guest = await m.join('guest', room, 'us');
    expect(host.nodeId).not.toBe(guest.nodeId);
    const mic = await guest.bot.publish('microphone');
    const screen = await guest.bot.publish('screen');
    const told: unknown[] = [];
    guest.bot.channel.on('mutedByModerator', (d) => told.push(d));
    guest.bot.channel.on('unmuteRequested', (d) => told.push(d));

    // A guest's own signaling cannot act on others.
    await expect(
      guest.bot.channel.request('muteParticipant', { participantId: host.bot.id, source: 'microphone' }),
    ).rejects.toSatisfy((e) => code(e) === 'FORBIDDEN');
    expect(
      (await m.act(room, 'muteParticipant', { participantId: 'nobody', source: 'microphone' })).status,
    ).toBe(404);

    const muted = await m.act(room, 'muteParticipant', {
      participantId: guest.bot.id,
      source: 'microphone',
      forbidUnmute: true,
    });
    expect(muted.status).toBe(200);
    await eventually(() => expect(told).toEqual([{ source: 'microphone', forbidUnmute: true }]));
    await eventually(() => expect(host.bot.seen.streamPaused).toContain(mic));
    await expect(guest.bot.channel.request('resumeProducer', { producerId: mic })).rejects.toSatisfy(
      (e) => code(e) === 'FORBIDDEN',
    );

    // A moderator in eu over its signaling, for a participant in us.
    await host.bot.channel.request('askToUnmute', { participantId: guest.bot.id, source: 'microphone' });
    await eventually(() => expect(told.at(-1)).toEqual({ source: 'microphone' }));
    await guest.bot.channel.request('resumeProducer', { producerId: mic });
    await eventually(() => expect(host.bot.seen.streamResumed).toContain(mic));

    await m.act(room, 'muteParticipant', {
      participantId: guest.bot.id,
      source: 'screen',
      forbidUnmute: true,
    });
    await eventually(() => expect(host.bot.seen.streamClosed).toContain(screen));
    // Forbidden: a new screen share is refused too.
    await expect(guest.bot.publish('screen')).rejects.toSatisfy((e) => code(e) === 'FORBIDDEN');
  });

  it('mute everyone mutes all but the moderators; selfUnmute off keeps the muted muted; video policy', async () => {
    const room = 'mod-everyone';
    const host = await m.join('host', room, 'eu', MODERATOR);
    const a = await m.join('guest-a', room, 'eu');
    const b = await m.join('guest-b', room, 'us');
    const hostMic = await host.bot.publish('microphone');
    const micA = await a.bot.publish('microphone');
    const micB = await b.bot.publish('microphone');
    const policies = await m.act(room, 'setPolicies', {
      policies: { selfUnmute: false, video: 'moderators' },
    });
    expect(policies.body).toMatchObject({
      settings: { policies: { selfUnmute: false, video: 'moderators' } },
    });
    expect((await b.bot.channel.request('roomSettings', {})).policies.video).toBe('moderators');

    await m.act(room, 'muteEveryone', { source: 'microphone' });
    await eventually(() => expect(host.bot.seen.streamPaused).toEqual(expect.arrayContaining([micA, micB])));
    await new Promise((r) => setTimeout(r, 500));
    expect(a.bot.seen.streamPaused).not.toContain(hostMic);
    // Muted without a forbid, but the policy says only a moderator's ask lifts it.
    await expect(b.bot.channel.request('resumeProducer', { producerId: micB })).rejects.toSatisfy(
      (e) => code(e) === 'FORBIDDEN',
    );
    await host.bot.channel.request('pauseProducer', { producerId: hostMic });
    await host.bot.channel.request('resumeProducer', { producerId: hostMic }); // moderators always may
    await expect(b.bot.publish('camera')).rejects.toSatisfy((e) => code(e) === 'FORBIDDEN');
    await host.bot.publish('camera');
  });

  it('remove with ban: told, closed, refused on every edge and at the control plane until unbanned', async () => {
    const room = 'mod-ban';
    const host = await m.join('host', room, 'eu', MODERATOR);
    const guest = await m.join('troll', room, 'us');
    let closed: number | undefined;
    const removed: unknown[] = [];
    guest.bot.channel.on('removedFromRoom', (d) => removed.push(d));
    guest.bot.channel.on('close', (c) => {
      closed = c;
    });
    await expect(
      guest.bot.channel.request('removeParticipant', { participantId: host.bot.id }),
    ).rejects.toSatisfy((e) => code(e) === 'FORBIDDEN');
    const left: string[] = [];
    host.bot.channel.on('participantLeft', ({ participantId }) => left.push(participantId));

    await m.act(room, 'removeParticipant', { participantId: guest.bot.id, reason: 'spam', ban: true });
    await eventually(() => expect(closed).toBe(CloseCodes.removed));
    expect(removed).toEqual([{ reason: 'spam', banned: true }]);
    await eventually(() => expect(left).toContain(guest.bot.id));

    const again = await placeJoin(m.mesh, 'troll', room, 'us');
    expect(again.status).toBe(403);
    for (const edge of m.mesh.edges) {
      await expect(joinEdgeDirectly(m.mesh, edge.nodeId, 'troll', room)).rejects.toSatisfy(
        (e) => code(e) === 'FORBIDDEN',
      );
    }
    await m.act(room, 'unbanIdentity', { identity: 'troll' });
    const back = await m.join('troll', room, 'us');
    expect(back.bot.joined.room).toBe(room);
  });

  it('a locked room refuses newcomers at the control plane and at the edge; the admitted and moderators get in', async () => {
    const room = 'mod-lock';
    const host = await m.join('host', room, 'eu', MODERATOR);
    const regular = await m.join('regular', room, 'us');
    const changes: unknown[] = [];
    regular.bot.channel.on('settingsChanged', (s) => changes.push(s));
    await m.act(room, 'lockRoom', { locked: true });
    await eventually(() => expect(changes).toMatchObject([{ locked: true }]));

    const stranger = await placeJoin(m.mesh, 'stranger', room, 'us');
    expect(stranger).toMatchObject({ status: 403, error: { code: 'FORBIDDEN', message: 'room locked' } });
    const usEdge = m.mesh.edges.find((e) => e.region === 'us')!;
    await expect(joinEdgeDirectly(m.mesh, usEdge.nodeId, 'stranger', room)).rejects.toSatisfy(
      (e) => code(e) === 'FORBIDDEN',
    );
    await regular.bot.close();
    const back = await m.join('regular', room, 'us'); // admitted before: a reconnect passes
    expect(back.bot.joined.settings.locked).toBe(true);
    await m.join('co-host', room, 'us', MODERATOR);
    await m.act(room, 'lockRoom', { locked: false });
    await m.join('stranger', room, 'us');
    expect(host.bot.joined.settings.locked).toBe(false); // it joined before the lock
  });

  it('lobby: a waiter on a us edge is held, a moderator in eu hears of it and admits it over signaling, the API denies another', async () => {
    const room = 'mod-lobby';
    const host = await m.join('host', room, 'eu', MODERATOR);
    const lobbies: unknown[][] = [];
    host.bot.channel.on('lobbyChanged', ({ waiting }) => lobbies.push(waiting));
    await m.act(room, 'setPolicies', { policies: { lobby: true } });

    const w = await m.waiter('visitor', room, 'us');
    expect(w.nodeId).not.toBe(host.nodeId);
    await eventually(() => expect(w.positions).toEqual([1]));
    await eventually(() => expect(lobbies.at(-1)).toMatchObject([{ identity: 'visitor', name: 'visitor' }]));
    const [entry] = (await host.bot.channel.request('listLobby', {})).waiting;
    expect(entry?.identity).toBe('visitor');
    // Held past the join timeout, alone in the room on its edge (whose empty grace is 300 ms).
    await new Promise((r) => setTimeout(r, TEST_JOIN_TIMEOUT_MS + 1000));
    expect(w.closeCode).toBeUndefined();
    // The moderator on the eu edge admits over its own signaling the waiter on the us edge.
    await host.bot.channel.request('admitFromLobby', { participantId: entry!.participantId });
    const joined = await w.answer;
    expect(joined.self.id).toBe(entry!.participantId); // the id the moderators saw
    await eventually(() => expect(lobbies.at(-1)).toEqual([]));

    const other = await m.waiter('other', room, 'us');
    await eventually(() => expect(other.positions).toEqual([1]));
    const [second] = (await host.bot.channel.request('listLobby', {})).waiting;
    expect((await m.act(room, 'denyFromLobby', { participantId: 'nobody' })).status).toBe(404);
    await m.act(room, 'denyFromLobby', { participantId: second!.participantId, reason: 'full' });
    await expect(other.answer).rejects.toSatisfy((e) => code(e) === 'FORBIDDEN');
    await eventually(() => expect(other.closeCode).toBe(CloseCodes.removed));
    // The admitted visitor is no moderator: it cannot read the lobby or admit.
    expect(joined.settings.policies.lobby).toBe(true);
    await expect(w.channel.request('listLobby', {})).rejects.toSatisfy((e) => code(e) === 'FORBIDDEN');
    await expect(
      w.channel.request('admitFromLobby', { participantId: second!.participantId }),
    ).rejects.toSatisfy((e) => code(e) === 'FORBIDDEN');
    w.channel.close();
  });

  it('the lobby queue survives an edge restart: the waiter comes back through another edge in its place', async () => {
    const room = 'mod-lobby-restart';
    await m.join('host', room, 'eu', MODERATOR);
    await m.act(room, 'setPolicies', { policies: { lobby: true } });
    const first = await m.waiter('first', room, 'us');
    await eventually(() => expect(first.positions).toEqual([1]));
    const second = await m.waiter('second', room, 'us');
    await eventually(() => expect(second.positions).toEqual([2]));
    const before = await m.directory.governance.lobby(room);
    const firstId = before.find((e) => e.identity === 'first')!.participantId;

    const victim = m.mesh.edges.find((e) => e.nodeId === first.nodeId)!;
    victim.child.kill('SIGKILL');
    await eventually(() => expect(first.closeCode).toBeDefined());
    const back = await Waiter.open(m.mesh, 'first', room, 'us', [first.nodeId]);
    expect(back.nodeId).not.toBe(first.nodeId);
    await eventually(() => expect(back.positions).toEqual([1]));
    await m.act(room, 'admitFromLobby', { participantId: firstId });
    expect((await back.answer).self.id).toBe(firstId);
    back.channel.close();
    second.channel.close();
    await m.mesh.respawn(victim.nodeId);
  });

  it('end meeting: everyone on every edge is told and closed, the state goes; then nothing is left', async () => {
    const room = 'mod-end';
    const host = await m.join('host', room, 'eu', MODERATOR);
    const a = await m.join('end-a', room, 'us');
    await a.bot.publish('microphone');
    const banned = await m.join('end-b', room, 'eu');
    await m.act(room, 'lockRoom', { locked: true });
    await m.act(room, 'removeParticipant', { participantId: banned.bot.id, ban: true });
    const parts = async () => (await m.directory.keys({ room })).map((k) => k.part);
    expect(await parts()).toEqual(expect.arrayContaining(['settings', 'bans', 'admitted']));
    const codes: number[] = [];
    const ended: unknown[] = [];
    for (const bot of [host.bot, a.bot]) {
      bot.channel.on('meetingEnded', (d) => ended.push(d));
      bot.channel.on('close', (c) => codes.push(c));
    }
    await m.act(room, 'endMeeting', {});
    await eventually(() => expect(codes).toEqual([CloseCodes.meetingEnded, CloseCodes.meetingEnded]));
    expect(ended).toHaveLength(2);
    const stateParts = ['settings', 'bans', 'admitted', 'lobby', 'forbidden', 'muted'];
    expect((await parts()).filter((p) => stateParts.includes(p))).toEqual([]);
    await m.join('end-b', room, 'eu'); // a new meeting: the ban and the lock went with the old one
  });

  it('after everyone leaves: no mediasoup objects remain and the state keys expire within the grace', async () => {
    await m.closeAll(); // what the other tests left: the edges must come out empty
    const room = 'mod-leave';
    const host = await m.join('host', room, 'eu', MODERATOR);
    const guest = await m.join('leaver', room, 'us');
    await guest.bot.publish('microphone');
    await m.act(room, 'muteParticipant', {
      participantId: guest.bot.id,
      source: 'microphone',
      forbidUnmute: true,
    });
    await m.act(room, 'lockRoom', { locked: true });
    const keys = await m.directory.keys({ room });
    const state = keys.filter((k) => k.key.includes(':state:moderation:'));
    expect(state.map((k) => k.part).sort()).toEqual(['admitted', 'forbidden', 'muted', 'settings']);
    for (const k of state) expect(k.ttlSeconds).toBeGreaterThan(3600);
    await guest.bot.close();
    await host.bot.close();
    const leftAt = Date.now();
    await eventually(async () => {
      const now = (await m.directory.keys({ room })).filter((k) => k.key.includes(':state:'));
      for (const k of now) expect(k.ttlSeconds).toBeLessThanOrEqual(TEST_STATE_GRACE_SECONDS);
    }, 10_000);
    await eventually(
      async () =>
        expect((await m.directory.keys({ room })).filter((k) => k.key.includes(':state:'))).toEqual([]),
      (TEST_STATE_GRACE_SECONDS + 8) * 1000,
    );
    const expiredAfterMs = Date.now() - leftAt;
    console.log(`state keys of an emptied room gone ${expiredAfterMs} ms after the last leave`);
    for (const edge of m.mesh.edges) {
      await eventually(async () => {
        const view = await nodeView(edge.operatorUrl, m.mesh.operatorToken);
        for (const w of view.workers)
          expect(w).toMatchObject({ routers: 0, transports: 0, producers: 0, consumers: 0 });
      }, 10_000);
    }
  });
});
