import type { Admission } from '@kaskade/directory';
import { refusalOf, waitsInLobby } from '@kaskade/directory';
import { RoomRules, type RoomRulesOptions, type RulesLink } from '@kaskade/edge';
import {
  DEFAULT_POLICIES,
  DEFAULT_SETTINGS,
  type Grants,
  type JoinClaims,
  KaskadeError,
  type RoomPolicies,
  type Source,
} from '@kaskade/protocol';
import { describe, expect, it, vi } from 'vitest';

const GUEST: Grants = { publish: true, subscribe: true };
const MODERATOR: Grants = { publish: true, subscribe: true, moderate: true };

function admission(over: Partial<Admission> & { locked?: boolean; policies?: Partial<RoomPolicies> } = {}) {
  const { locked = false, policies = {}, ...rest } = over;
  return {
    settings: { locked, policies: { ...DEFAULT_POLICIES, ...policies } },
    banned: false,
    admitted: false,
    forbidden: [],
    muted: [],
    ...rest,
  } satisfies Admission;
}

const code = (error: KaskadeError | undefined) => error?.code;

describe('the join rule (refusalOf, waitsInLobby)', () => {
  it('a ban refuses everyone, moderators and the admitted too', () => {
    for (const moderator of [false, true])
      expect(code(refusalOf(admission({ banned: true, admitted: true }), moderator))).toBe('FORBIDDEN');
  });

  it('the lock refuses only identities not admitted before, and never a moderator', () => {
    expect(refusalOf(admission({ locked: true }), false)?.message).toBe('room locked');
    expect(refusalOf(admission({ locked: true, admitted: true }), false)).toBeUndefined();
    expect(refusalOf(admission({ locked: true }), true)).toBeUndefined();
    expect(refusalOf(admission(), false)).toBeUndefined();
  });

  it('a join waits in the lobby only when the policy is on, for one neither admitted nor moderating', () => {
    expect(waitsInLobby(admission({ policies: { lobby: true } }), false)).toBe(true);
    expect(waitsInLobby(admission({ policies: { lobby: true }, admitted: true }), false)).toBe(false);
    expect(waitsInLobby(admission({ policies: { lobby: true } }), true)).toBe(false);
    expect(waitsInLobby(admission(), false)).toBe(false);
  });
});

/** A local participant as the rules see it, recording what it is told and made to do. */
function participant(id: string, grants: Grants = GUEST) {
  return {
    id,
    identity: `${id}-identity`,
    grants,
    told: [] as [string, unknown][],
    muted: [] as Source[],
    closed: [] as string[],
    notify(name: string, data: unknown) {
      this.told.push([name, data]);
    },
    async muteSource(source: Source) {
      this.muted.push(source);
    },
    close(reason: string) {
      this.closed.push(reason);
    },
  };
}
type FakeParticipant = ReturnType<typeof participant>;

function rules(link?: Partial<RulesLink>, people: FakeParticipant[] = []) {
  const here = new Map(people.map((p) => [p.id, p]));
  const calls = { admitted: [] as string[], clearMuted: [] as string[], notifyAll: [] as unknown[] };
  const fullLink: RulesLink = {
    admission: async () => admission(),
    admitted: async (identity) => {
      calls.admitted.push(identity);
    },
    clearMuted: async (identity, source) => {
      calls.clearMuted.push(`${identity}:${source}`);
    },
    ...link,
  };
  const onError = vi.fn();
  const local = {
    get: (id: string) => here.get(id),
    values: () => here.values(),
    notifyAll: (_name: string, data: unknown) => calls.notifyAll.push(data),
  };
  const options = {
    local,
    link: () => (link ? fullLink : undefined),
    onError,
  } as unknown as RoomRulesOptions;
  return { rules: new RoomRules(options), calls, onError };
}

const claims = (sub: string, grants: Grants = GUEST) => ({ sub, grants }) as unknown as JoinClaims;
const asParticipant = (p: FakeParticipant) => p as never;

describe('RoomRules', () => {
  it('a standalone edge admits everyone under the default settings', async () => {
    const { rules: r } = rules();
    const a = await r.admission(claims('anyone'));
    expect(a).toMatchObject({ admitted: true, banned: false, settings: DEFAULT_SETTINGS });
  });

  it('takes the settings of each admission, refuses a ban or the lock, and a directory outage as UNAVAILABLE', async () => {
    const locked = rules({
      admission: async () => admission({ locked: true, policies: { chat: 'moderators' } }),
    });
    await expect(locked.rules.admission(claims('stranger'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(locked.rules.settings).toMatchObject({ locked: true, policies: { chat: 'moderators' } });
    await expect(locked.rules.admission(claims('host', MODERATOR))).resolves.toMatchObject({ banned: false });

    const away = rules({ admission: () => Promise.reject(new Error('redis away')) });
    const refusal = await away.rules.admission(claims('x')).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(KaskadeError);
    expect(refusal).toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('admits an identity that joins a locked room or one with a lobby, once, and no other', async () => {
    const lobby = rules({ admission: async () => admission({ policies: { lobby: true }, admitted: true }) });
    await lobby.rules.admission(claims('a'));
    lobby.rules.joined(asParticipant(participant('back')), admission({ admitted: true }));
    lobby.rules.joined(asParticipant(participant('new')), admission());
    expect(lobby.calls.admitted).toEqual(['new-identity']);

    const open = rules({});
    open.rules.joined(asParticipant(participant('p')), admission());
    expect(open.calls.admitted).toEqual([]);
  });

  it('forbids what a moderator forbade; a mere mute holds only with selfUnmute off; moderators are never held', async () => {
    const guest = participant('g');
    const host = participant('h', MODERATOR);
    const { rules: r } = rules({});
    r.joined(asParticipant(guest), admission({ forbidden: ['camera'], muted: ['microphone'] }));
    r.joined(asParticipant(host), admission({ forbidden: ['camera'] }));
    expect(r.forbiddenFor(asParticipant(guest))).toEqual(['camera']);
    expect(r.forbiddenFor(asParticipant(host))).toEqual([]);
    expect(() => r.assertMayUnmute(asParticipant(guest), 'camera')).toThrow(KaskadeError);
    expect(() => r.assertMayUnmute(asParticipant(guest), 'microphone')).not.toThrow();

    r.settingsChanged({ locked: false, policies: { ...DEFAULT_POLICIES, selfUnmute: false } });
    expect(r.forbiddenFor(asParticipant(guest)).sort()).toEqual(['camera', 'microphone']);
  });

  it('publishing follows the video and screen policies; starting live counts as unmuting', () => {
    const guest = participant('g');
    const host = participant('h', MODERATOR);
    const { rules: r } = rules({});
    r.joined(asParticipant(guest), admission({ forbidden: ['microphone'] }));
    r.settingsChanged({
      locked: false,
      policies: { ...DEFAULT_POLICIES, video: 'moderators', screen: 'moderators' },
    });
    expect(() => r.assertMayProduce(asParticipant(guest), 'camera', false)).toThrow('only moderators');
    expect(() => r.assertMayProduce(asParticipant(guest), 'screen', false)).toThrow('only moderators');
    expect(() => r.assertMayProduce(asParticipant(host), 'camera', true)).not.toThrow();
    expect(() => r.assertMayProduce(asParticipant(guest), 'microphone', false)).not.toThrow();
    expect(() => r.assertMayProduce(asParticipant(guest), 'microphone', true)).toThrow(KaskadeError);
  });

  it('a moderator mute pauses and tells; unmuting clears it in the directory once; askToUnmute lifts a forbid', () => {
    const guest = participant('g');
    const host = participant('h', MODERATOR);
    const { rules: r, calls } = rules({}, [guest, host]);
    r.joined(asParticipant(guest), admission());
    r.joined(asParticipant(host), admission());
    r.muteEveryone('microphone', true);
    expect(guest.muted).toEqual(['microphone']);
    expect(host.muted).toEqual([]);
    expect(guest.told).toEqual([['mutedByModerator', { source: 'microphone', forbidUnmute: true }]]);
    expect(r.forbiddenFor(asParticipant(guest))).toEqual(['microphone']);

    r.askToUnmute('g', 'microphone');
    expect(guest.told.at(-1)).toEqual(['unmuteRequested', { source: 'microphone' }]);
    expect(r.forbiddenFor(asParticipant(guest))).toEqual([]);

    r.mute('g', 'camera', false);
    r.unmuted(asParticipant(guest), 'camera');
    r.unmuted(asParticipant(guest), 'camera');
    expect(calls.clearMuted).toEqual(['g-identity:camera']);
  });

  it('remove and endMeeting tell, then close with their reason; settings changes reach everyone here', () => {
    const a = participant('a');
    const b = participant('b');
    const { rules: r, calls } = rules({}, [a, b]);
    r.remove('a', 'spam', true);
    expect(a.told).toEqual([['removedFromRoom', { reason: 'spam', banned: true }]]);
    expect(a.closed).toEqual(['removed']);
    r.remove('nobody', 'x', false); // not hosted here: nothing happens
    r.endMeeting();
    expect(b.told.at(-1)).toEqual(['meetingEnded', {}]);
    expect(b.closed).toEqual(['ended']);
    const settings = { locked: true, policies: DEFAULT_POLICIES };
    r.settingsChanged(settings);
    expect(r.settings).toBe(settings);
    expect(calls.notifyAll).toEqual([settings]);
  });
});
