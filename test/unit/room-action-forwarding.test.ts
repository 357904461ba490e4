import { type ActingSession, roomActionForwarder } from '@kaskade/edge';
import type { RoomActionName } from '@kaskade/protocol';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';

// The edge's forwarding of room actions, on a session reduced to what it reads. The
// action is a test's own (no feature action is needed to check the plumbing).
const action = 'testAction' as RoomActionName;
const forward = roomActionForwarder(action, Type.Object({ done: Type.Boolean() }));

function session(moderate: boolean | undefined, answer: unknown, standalone = false) {
  const calls: unknown[][] = [];
  const s: ActingSession = {
    participant: { id: 'p1', grants: moderate === undefined ? {} : { moderate } },
    room: { name: 'r1' },
    context: standalone
      ? {}
      : {
          act: async (...args) => {
            calls.push(args);
            return answer;
          },
        },
  };
  return { s, calls };
}
const code = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: { code: string }) => e.code,
  );

describe('room actions on the edge', () => {
  it('forwards a moderator’s action to the control plane as that participant, and returns its answer', async () => {
    const { s, calls } = session(true, { done: true });
    expect(await forward(s, { x: 1 })).toEqual({ done: true });
    expect(calls).toEqual([['r1', 'p1', action, { x: 1 }]]);
  });

  it('refuses a participant without the moderate grant (FORBIDDEN), sending nothing', async () => {
    for (const moderate of [false, undefined]) {
      const { s, calls } = session(moderate, { done: true });
      expect(await code(forward(s, {}))).toBe('FORBIDDEN');
      expect(calls).toEqual([]);
    }
  });

  it('refuses on a standalone edge (UNAVAILABLE) and an answer breaking the schema (INTERNAL)', async () => {
    expect(await code(forward(session(true, {}, true).s, {}))).toBe('UNAVAILABLE');
    expect(await code(forward(session(true, { done: 'yes' }).s, {}))).toBe('INTERNAL');
  });
});
