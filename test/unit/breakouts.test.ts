import { Roster } from '@kaskade/client-sdk/internals';
import {
  BreakoutActions,
  breakoutRoomName,
  DEFAULT_SETTINGS,
  type ParticipantInfo,
  type ResponseData,
  SafeName,
} from '@kaskade/protocol';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';

const person = (id: string, identity: string): ParticipantInfo => ({
  id,
  identity,
  name: identity,
  role: 'stage',
});

function joinAnswer(
  room: string,
  self: ParticipantInfo,
  participants: ParticipantInfo[],
): ResponseData<'join'> {
  return {
    self,
    room,
    grants: { publish: true, subscribe: true },
    participants,
    streams: [],
    activeSpeaker: null,
    lecture: false,
    participantCount: participants.length + 1,
    node: 'edge-eu-0',
    settings: DEFAULT_SETTINGS,
    forbidden: [],
  };
}

describe('the SDK room switch: the roster becomes the new room', () => {
  it('everyone of the old room leaves (their tracks go), everyone of the new room joins, even the same identity under its new id', () => {
    const events: string[] = [];
    const tracksDropped: string[] = [];
    let self = 'me-main';
    const roster = new Roster({
      selfId: () => self,
      left: (id) => tracksDropped.push(id),
      emit: (event, ...args) => {
        if (event === 'participantJoined' || event === 'participantLeft')
          events.push(`${event} ${(args[0] as ParticipantInfo).id}`);
      },
    });
    roster.joined(joinAnswer('main', person(self, 'me'), [person('a-main', 'ana'), person('b-main', 'ben')]));
    expect(events).toEqual(['participantJoined a-main', 'participantJoined b-main']);
    events.length = 0;

    // The switch: the breakout's join answer is the truth now (ana went along: a new id there).
    self = 'me-bo';
    roster.joined(
      joinAnswer('main-bo1-abc', person(self, 'me'), [person('a-bo', 'ana'), person('c-bo', 'cleo')]),
    );
    expect(events.sort()).toEqual(
      [
        'participantJoined a-bo',
        'participantJoined c-bo',
        'participantLeft a-main',
        'participantLeft b-main',
      ].sort(),
    );
    expect(tracksDropped.sort()).toEqual(['a-main', 'b-main']);
    expect([...roster.participants.keys()].sort()).toEqual(['a-bo', 'c-bo']);
    expect(roster.count).toBe(3);
  });
});

describe('breakout room names', () => {
  const safe = Compile(SafeName);

  it('are safe names of at most 64 characters, derived from the main room, distinct per index and session', () => {
    expect(breakoutRoomName('math-101', 2, 'a1b2c3')).toBe('math-101-bo2-a1b2c3');
    const long = 'x'.repeat(64);
    const names = Array.from({ length: 20 }, (_, i) => breakoutRoomName(long, i + 1, 'a1b2c3'));
    for (const name of names) {
      expect(safe.Check(name), name).toBe(true);
      expect(name.length).toBeLessThanOrEqual(64);
    }
    expect(new Set(names).size).toBe(20);
    expect(breakoutRoomName(long, 1, 'a1b2c3')).not.toBe(breakoutRoomName(long, 1, 'd4e5f6'));
    // A session that is not a safe name cannot smuggle a subject token or a key separator in.
    expect(safe.Check(breakoutRoomName('room', 1, 'a.b:c*{d}'))).toBe(true);
  });

  it('the actions bound what a moderator may ask: 1..20 rooms, a timer of a day at most, no empty broadcast', () => {
    const create = Compile(BreakoutActions.createBreakouts.request);
    expect(create.Check({ count: 0 })).toBe(false);
    expect(create.Check({ count: 21 })).toBe(false);
    expect(create.Check({ count: 20, names: ['a'] })).toBe(true);
    const open = Compile(BreakoutActions.openBreakouts.request);
    expect(open.Check({ durationSeconds: 86_401 })).toBe(false);
    expect(open.Check({})).toBe(true);
    const assign = Compile(BreakoutActions.assignBreakouts.request);
    expect(assign.Check({ random: false })).toBe(false);
    expect(assign.Check({ random: true })).toBe(true);
    expect(assign.Check({ assignments: [{ participantId: 'p', room: 'r.x' }] })).toBe(false);
    expect(Compile(BreakoutActions.broadcastToBreakouts.request).Check({ text: '' })).toBe(false);
  });
});
