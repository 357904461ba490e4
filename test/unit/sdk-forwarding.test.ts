import { consumerStates, ForwardingTracker, forwardingOf } from '@kaskade/client-sdk/internals';
import { describe, expect, it } from 'vitest';

const news = (parts: Partial<Record<'on' | 'notInLastN' | 'pausedBySender' | 'noBandwidth', string[]>>) => ({
  on: [],
  notInLastN: [],
  pausedBySender: [],
  noBandwidth: [],
  ...parts,
});

interface Session {
  name: string;
}

const video = (id: string, consumerId: string, session: Session, paused = false) => ({
  id,
  kind: 'video' as const,
  paused,
  feed: { consumer: { id: consumerId }, session },
});

describe('SDK: which remote videos the edge forwards, by track', () => {
  it('reads each consumer of the notification with its reason', () => {
    const states = consumerStates(
      news({ on: ['c1'], notInLastN: ['c2'], pausedBySender: ['c3'], noBandwidth: ['c4'] }),
    );
    expect(Object.fromEntries(states)).toEqual({
      c1: { on: true },
      c2: { on: false, reason: 'notInLastN' },
      c3: { on: false, reason: 'pausedBySender' },
      c4: { on: false, reason: 'noBandwidth' },
    });
  });

  it('a consumer the edge said nothing of is on unless its sender paused it (before last-N: everything is on)', () => {
    expect(forwardingOf(undefined, 'c1', false)).toEqual({ on: true });
    expect(forwardingOf(undefined, 'c1', true)).toEqual({ on: false, reason: 'pausedBySender' });
    expect(forwardingOf(consumerStates(news({ notInLastN: ['c1'] })), 'c2', false)).toEqual({ on: true });
    // What the edge says wins over the sender flag (it knows both).
    expect(forwardingOf(consumerStates(news({ notInLastN: ['c1'] })), 'c1', true)).toEqual({
      on: false,
      reason: 'notInLastN',
    });
  });

  it('keys the state by track: a track whose consumer changed (a move) takes the new consumer’s state', () => {
    const edge: Session = { name: 'edge-a' };
    const tracker = new ForwardingTracker<Session>();
    tracker.told(edge, news({ on: ['ca'], notInLastN: ['cb'] }));
    let tracks = [video('alice/camera', 'ca', edge), video('bob/camera', 'cb', edge)];
    expect(Object.fromEntries(tracker.update(tracks)!)).toEqual({
      'alice/camera': { on: true },
      'bob/camera': { on: false, reason: 'notInLastN' },
    });
    // Nothing changed: nothing to tell the application.
    expect(tracker.update(tracks)).toBeUndefined();

    // Bob's stream moved: a new consumer cb2 feeds the same track; the edge lists both for a while.
    tracker.told(edge, news({ on: ['ca', 'cb2'], notInLastN: ['cb'] }));
    expect(tracker.update(tracks), 'the old consumer still feeds it: unchanged').toBeUndefined();
    tracks = [video('alice/camera', 'ca', edge), video('bob/camera', 'cb2', edge)];
    expect(tracker.update(tracks)?.get('bob/camera')).toEqual({ on: true });
  });

  it('each session’s news counts for its own consumers only (a migration: two edges at once)', () => {
    const oldEdge: Session = { name: 'old' };
    const newEdge: Session = { name: 'new' };
    const tracker = new ForwardingTracker<Session>();
    tracker.told(oldEdge, news({ notInLastN: ['x'] }));
    // The new edge has not sent its news yet: its consumer counts as on, even with the same id.
    expect(tracker.stateOf(video('bob/camera', 'x', newEdge))).toEqual({ on: true });
    expect(tracker.stateOf(video('bob/camera', 'x', oldEdge))).toEqual({ on: false, reason: 'notInLastN' });
  });

  it('a track that goes away changes the map; audio is never in it', () => {
    const edge: Session = { name: 'edge' };
    const tracker = new ForwardingTracker<Session>();
    const audio = { ...video('alice/microphone', 'm', edge), kind: 'audio' as const };
    expect([...tracker.update([video('alice/camera', 'ca', edge), audio])!.keys()]).toEqual(['alice/camera']);
    expect(tracker.update([audio])?.size).toBe(0);
    expect(tracker.stateOf({ ...audio, paused: true })).toEqual({ on: false, reason: 'pausedBySender' });
  });
});
