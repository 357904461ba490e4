import {
  asTicket,
  backoffMs,
  edgeGone,
  isFinalClose,
  newestByKey,
  UnreachableEdges,
} from '@kaskade/client-sdk/internals';
import { CloseCodes } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';

describe('SDK crash recovery rules', () => {
  it('a refused token, a replaced identity, a normal close and misuse before the join are final', () => {
    for (const code of [
      CloseCodes.unauthorized,
      CloseCodes.replaced,
      CloseCodes.normal,
      CloseCodes.tooManyBeforeJoin,
    ])
      expect(isFinalClose(code), String(code)).toBe(true);
    for (const code of [1001, 1006, 4000, 4413]) expect(isFinalClose(code), String(code)).toBe(false);
  });

  it('an edge that vanished, went away or failed is avoided; a dropped session of a live edge is not', () => {
    for (const code of [1001, 1006, 1011, 1012]) expect(edgeGone(code), String(code)).toBe(true);
    for (const code of [1000, 4000, 4401, 4409, 4413]) expect(edgeGone(code), String(code)).toBe(false);
  });

  it('backs off from 250 ms, doubling, to at most 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(backoffMs)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });

  it('a bare token goes to the configured url; a ticket stands as given; no url is an error', () => {
    expect(asTicket('t', 'http://edge')).toEqual({ url: 'http://edge', token: 't' });
    const ticket = { url: 'http://other', token: 'u', node: 'edge-eu-2' };
    expect(asTicket(ticket, 'http://edge')).toBe(ticket);
    expect(() => asTicket('t', undefined)).toThrow(/needs a url/);
  });

  it('remembers unreachable edges once each, newest last, at most eight, until cleared', () => {
    const edges = new UnreachableEdges();
    edges.add(undefined); // a ticket that named no node
    expect(edges.list()).toEqual([]);
    edges.add('a');
    edges.add('b');
    edges.add('a');
    expect(edges.list()).toEqual(['b', 'a']);
    for (let i = 0; i < 10; i++) edges.add(`n${i}`);
    expect(edges.list()).toHaveLength(UnreachableEdges.LIMIT);
    expect(edges.list()).toEqual(['n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9']);
    const copy = edges.list();
    copy.push('x'); // the list handed out is a copy
    expect(edges.list()).not.toContain('x');
    edges.clear();
    expect(edges.list()).toEqual([]);
  });

  it('of two streams with one key (a publisher that moved), the later one counts', () => {
    const streams = [
      { producerId: 'old', participantId: 'p', source: 'camera' },
      { producerId: 'mic', participantId: 'p', source: 'microphone' },
      { producerId: 'new', participantId: 'p', source: 'camera' },
      { producerId: 'q', participantId: 'q', source: 'camera' },
    ];
    const newest = newestByKey(streams);
    expect([...newest.keys()]).toEqual(['p/camera', 'p/microphone', 'q/camera']);
    expect(newest.get('p/camera')?.producerId).toBe('new');
  });
});
