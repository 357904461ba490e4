import { ALL_VIDEO, inLastN, lastNParticipants, type VideoCandidate } from '@kaskade/edge';
import { describe, expect, it } from 'vitest';

const cam = (participantId: string): VideoCandidate => ({ participantId, source: 'camera' });
const screen = (participantId: string): VideoCandidate => ({ participantId, source: 'screen' });
const sorted = (set: Set<string>) => [...set].sort();

describe('last-N: which remote cameras a viewer receives', () => {
  const cams = ['a', 'b', 'c', 'd', 'e'].map(cam);

  it('forwards every camera when the viewer never chose N', () => {
    expect(sorted(lastNParticipants(cams, ['c'], ALL_VIDEO))).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('takes the recent speakers first, in the order of the room', () => {
    expect(sorted(lastNParticipants(cams, ['d', 'b', 'a'], { n: 2, pinned: [] }))).toEqual(['b', 'd']);
  });

  it('fills the places speakers leave with the others, in the order subscribed', () => {
    expect(sorted(lastNParticipants(cams, ['e'], { n: 3, pinned: [] }))).toEqual(['a', 'b', 'e']);
    expect(sorted(lastNParticipants(cams, [], { n: 2, pinned: [] }))).toEqual(['a', 'b']);
  });

  it('skips speakers the viewer has no camera of (itself, audio-only participants)', () => {
    expect(sorted(lastNParticipants(cams, ['viewer', 'x', 'c'], { n: 2, pinned: [] }))).toEqual(['a', 'c']);
  });

  it('puts pinned participants ahead of speakers, and they take places of the N', () => {
    expect(sorted(lastNParticipants(cams, ['d', 'b'], { n: 2, pinned: ['e'] }))).toEqual(['d', 'e']);
  });

  it('keeps every pinned participant, even past N', () => {
    expect(sorted(lastNParticipants(cams, ['d'], { n: 1, pinned: ['a', 'b', 'zz'] }))).toEqual(['a', 'b']);
  });

  it('N = 0 forwards no camera but still the pinned ones and screen shares', () => {
    const all = [...cams, screen('c')];
    const chosen = lastNParticipants(all, ['a'], { n: 0, pinned: ['b'] });
    expect(sorted(chosen)).toEqual(['b']);
    expect(all.filter((v) => inLastN(v, chosen))).toEqual([cam('b'), screen('c')]);
  });

  it('never lets a screen share take a place: it is always on', () => {
    const all = [screen('a'), cam('a'), cam('b'), cam('c')];
    const chosen = lastNParticipants(all, ['c', 'b', 'a'], { n: 1, pinned: [] });
    expect(all.filter((v) => inLastN(v, chosen))).toEqual([screen('a'), cam('c')]);
  });

  it('a change of speaker moves the place: the new one in, the oldest out', () => {
    const before = lastNParticipants(cams, ['b', 'a'], { n: 2, pinned: [] });
    const after = lastNParticipants(cams, ['c', 'b', 'a'], { n: 2, pinned: [] });
    expect(sorted(before)).toEqual(['a', 'b']);
    expect(sorted(after)).toEqual(['b', 'c']);
  });
});
