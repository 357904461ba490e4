import type { SignalingChannel } from '@kaskade/client-sdk';
import { RoomModeration } from '@kaskade/client-sdk/internals';
import { describe, expect, it } from 'vitest';
import { FakeChannel } from '../helpers/fake-channel.ts';

const LOBBY_ENTRY = { participantId: 'p9', identity: 'guest', name: 'Guest', since: 1 };
const SETTINGS = {
  locked: false,
  policies: {
    lobby: true,
    chat: 'everyone',
    audienceChat: true,
    video: 'everyone',
    screen: 'everyone',
    selfUnmute: true,
  },
} as const;

function setUp(isCurrent = true) {
  const channel = new FakeChannel();
  channel.answers.listLobby = { waiting: [LOBBY_ENTRY] };
  const acts: { name: string; params: unknown }[] = [];
  const events: unknown[][] = [];
  const held: string[] = [];
  const finished: string[] = [];
  const moderation = new RoomModeration({
    act: (async (name: string, params: unknown) => {
      acts.push({ name, params });
      return name === 'setPolicies' ? { settings: { ...SETTINGS, locked: true } } : {};
    }) as never,
    channel: () => channel as unknown as SignalingChannel,
    heldByModerator: (source) => held.push(source),
    finish: (reason) => finished.push(reason),
    emit: (...args: unknown[]) => events.push(args),
  });
  moderation.wire(channel as unknown as SignalingChannel, () => isCurrent);
  return { channel, acts, events, held, finished, moderation };
}

describe('SDK: moderation seen from the participant', () => {
  it('muted with forbid: our publication is held, unmuting is refused FORBIDDEN until a moderator asks', () => {
    const { channel, events, held, moderation } = setUp();
    moderation.joined({ settings: SETTINGS, forbidden: [] });
    expect(() => moderation.assertMayUnmute('microphone', 'resumeProducer')).not.toThrow();
    channel.fire('mutedByModerator', { source: 'microphone', forbidUnmute: true });
    expect(held).toEqual(['microphone']);
    expect(moderation.forbidden).toEqual(['microphone']);
    expect(() => moderation.assertMayUnmute('microphone', 'resumeProducer')).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', method: 'resumeProducer' }),
    );
    // Only what was forbidden.
    expect(() => moderation.assertMayUnmute('camera', 'resumeProducer')).not.toThrow();
    channel.fire('unmuteRequested', { source: 'microphone' });
    expect(moderation.forbidden).toEqual([]);
    expect(() => moderation.assertMayUnmute('microphone', 'resumeProducer')).not.toThrow();
    expect(events).toEqual([
      ['mutedByModerator', 'microphone', true],
      ['unmuteRequested', 'microphone'],
    ]);
  });

  it("muted without forbid: held, but we may unmute; a rejoin takes the edge's list of forbidden sources", () => {
    const { channel, moderation } = setUp();
    channel.fire('mutedByModerator', { source: 'camera', forbidUnmute: false });
    expect(moderation.forbidden).toEqual([]);
    moderation.joined({ settings: SETTINGS, forbidden: ['screen'] });
    expect(moderation.forbidden).toEqual(['screen']);
    expect(moderation.settings).toEqual(SETTINGS);
  });

  it('removed or the meeting ended: told, then finished for good (no reconnect)', () => {
    const { channel, events, finished } = setUp();
    channel.fire('removedFromRoom', { reason: 'spam', banned: true });
    channel.fire('meetingEnded', {});
    expect(events).toEqual([['removed', 'spam', true], ['meetingEnded']]);
    expect(finished).toEqual(['removed and banned: spam', 'the meeting ended']);
  });

  it('settings and the lobby follow the notifications and the answers', async () => {
    const { channel, events, moderation } = setUp();
    channel.fire('settingsChanged', { ...SETTINGS, locked: true });
    expect(moderation.settings?.locked).toBe(true);
    channel.fire('lobbyChanged', { waiting: [LOBBY_ENTRY] });
    expect(moderation.lobby).toEqual([LOBBY_ENTRY]);
    channel.fire('lobbyChanged', { waiting: [] });
    expect(await moderation.listLobby()).toEqual([LOBBY_ENTRY]);
    expect(moderation.lobby).toEqual([LOBBY_ENTRY]);
    expect(events.map((e) => e[0])).toEqual(['settingsChanged', 'lobbyChanged', 'lobbyChanged']);
  });

  it('a session that no longer speaks for the room changes nothing', () => {
    const { channel, events, held, finished, moderation } = setUp(false);
    channel.fire('mutedByModerator', { source: 'microphone', forbidUnmute: true });
    channel.fire('meetingEnded', {});
    expect([events, held, finished, moderation.forbidden]).toEqual([[], [], [], []]);
  });

  it("each host call is its room action with the contract's parameters", async () => {
    const { acts, moderation } = setUp();
    await moderation.muteParticipant('p1', 'microphone', { forbidUnmute: true });
    await moderation.muteEveryone('camera');
    await moderation.askToUnmute('p1', 'microphone');
    await moderation.removeParticipant('p2', { reason: 'bye', ban: true });
    await moderation.lockRoom(true);
    expect((await moderation.setPolicies({ lobby: false })).locked).toBe(true);
    await moderation.admit('p3');
    await moderation.deny('p4', 'full');
    await moderation.endMeeting();
    expect(acts).toEqual([
      { name: 'muteParticipant', params: { participantId: 'p1', source: 'microphone', forbidUnmute: true } },
      { name: 'muteEveryone', params: { source: 'camera', forbidUnmute: false } },
      { name: 'askToUnmute', params: { participantId: 'p1', source: 'microphone' } },
      { name: 'removeParticipant', params: { participantId: 'p2', reason: 'bye', ban: true } },
      { name: 'lockRoom', params: { locked: true } },
      { name: 'setPolicies', params: { policies: { lobby: false } } },
      { name: 'admitFromLobby', params: { participantId: 'p3' } },
      { name: 'denyFromLobby', params: { participantId: 'p4', reason: 'full' } },
      { name: 'endMeeting', params: {} },
    ]);
    expect(moderation.settings?.locked).toBe(true);
  });
});
