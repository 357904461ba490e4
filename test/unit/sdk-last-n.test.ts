import { LastNChoice } from '@kaskade/client-sdk/internals';
import { MAX_PINNED } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';

/** A session whose channel records the setLastN requests and answers n capped at `max`, as the edge does. */
function session(max = 5) {
  const sent: { n: number; pinned: string[] }[] = [];
  const fake = {
    channel: {
      open: true,
      request: async (name: string, data: { n: number; pinned: string[] }) => {
        expect(name).toBe('setLastN');
        sent.push(structuredClone(data));
        return { n: Math.min(data.n, max) };
      },
    },
  };
  return { sent, session: fake as never };
}

describe('SDK last-N choice: n and pins kept together, sent together', () => {
  it('sends nothing until n is set (every video forwarded); pins made before wait for it', async () => {
    const edge = session();
    const choice = new LastNChoice(() => edge.session);
    await choice.pin('alice');
    expect(edge.sent).toEqual([]);
    expect(choice.n).toBeNull();
    expect(await choice.set(9)).toBe(5); // the edge's cap
    expect(choice.n).toBe(5);
    expect(edge.sent).toEqual([{ n: 9, pinned: ['alice'] }]);
    await choice.pin('bob');
    await choice.pin('bob'); // already pinned: nothing new to say
    await choice.unpin('alice');
    expect(edge.sent.slice(1)).toEqual([
      { n: 9, pinned: ['alice', 'bob'] },
      { n: 9, pinned: ['bob'] },
    ]);
    expect(choice.pinned).toEqual(['bob']);
  });

  it('a new session (reconnect, migration) gets the choice again; a closed one is skipped', async () => {
    let current = session(9);
    const choice = new LastNChoice(() => current.session);
    await choice.set(3);
    const next = session(2);
    current = next;
    await choice.resend(next.session);
    expect(next.sent).toEqual([{ n: 3, pinned: [] }]);
    expect(choice.n).toBe(2);
    (next.session as { channel: { open: boolean } }).channel.open = false;
    await choice.set(4);
    expect(next.sent).toHaveLength(1);
  });

  it('refuses a bad n and more pins than the edge allows', async () => {
    const choice = new LastNChoice(() => session().session);
    await expect(choice.set(-1)).rejects.toThrow(RangeError);
    await expect(choice.set(1.5)).rejects.toThrow(RangeError);
    for (let i = 0; i < MAX_PINNED; i++) await choice.pin(`p${i}`);
    await expect(choice.pin('one-too-many')).rejects.toThrow(RangeError);
    expect(choice.pinned).toHaveLength(MAX_PINNED);
  });
});
