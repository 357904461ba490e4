import { meetingLayout } from '@kaskade/client-sdk';
import { describe, expect, it } from 'vitest';

const people = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

describe('SDK meeting layout: stage, gallery pages and the last-N that forwards what is on screen', () => {
  it('puts the current speaker on the stage and the rest in the gallery, in the edge’s ranking', () => {
    const layout = meetingLayout({ participants: people(4), speakerOrder: ['p2', 'me', 'p3'], pinned: [] });
    expect(layout).toEqual({ stage: ['p2'], gallery: ['p3', 'p0', 'p1'], page: 0, pages: 1, lastN: 4 });
  });

  it('before anyone spoke, the first participant takes the stage; with nobody else there is nothing to forward', () => {
    expect(meetingLayout({ participants: people(2), speakerOrder: [], pinned: [] }).stage).toEqual(['p0']);
    expect(meetingLayout({ participants: [], speakerOrder: ['me'], pinned: [] })).toEqual({
      stage: [],
      gallery: [],
      page: 0,
      pages: 1,
      lastN: 0,
    });
  });

  it('a pinned participant takes the stage ahead of the speaker; pins of those gone are ignored', () => {
    const layout = meetingLayout({
      participants: people(3),
      speakerOrder: ['p2'],
      pinned: ['gone', 'p1'],
      stageSize: 1,
    });
    expect(layout.stage).toEqual(['p1']);
    expect(layout.gallery).toEqual(['p2', 'p0']);
  });

  it('pages the gallery; n covers the stage, the page shown and the pages before it', () => {
    const input = { participants: people(25), speakerOrder: ['p24'], pinned: [], pageSize: 9 };
    const first = meetingLayout(input);
    expect(first.stage).toEqual(['p24']);
    expect(first.gallery).toEqual(people(9));
    expect(first.pages).toBe(3); // 24 in the gallery
    expect(first.lastN).toBe(10);
    const second = meetingLayout({ ...input, page: 1 });
    expect(second.gallery).toEqual(people(18).slice(9));
    expect(second.lastN).toBe(19);
    const last = meetingLayout({ ...input, page: 7 }); // clamped
    expect(last.page).toBe(2);
    expect(last.gallery).toEqual(people(24).slice(18));
    expect(last.lastN).toBe(25);
  });

  it('a larger stage takes the latest speakers; a bad size is refused', () => {
    const layout = meetingLayout({
      participants: people(5),
      speakerOrder: ['p3', 'p1'],
      pinned: [],
      stageSize: 2,
      pageSize: 2,
    });
    expect(layout).toMatchObject({ stage: ['p3', 'p1'], gallery: ['p0', 'p2'], pages: 2, lastN: 4 });
    expect(() => meetingLayout({ participants: [], speakerOrder: [], pinned: [], pageSize: 0 })).toThrow(
      RangeError,
    );
  });
});
