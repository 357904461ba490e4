import {
  type Conference,
  consumersPerParticipant,
  directoryEntriesOf,
  participantsOf,
} from './conference.ts';
import type { Figures } from './figures.ts';

export type MainThreadLoad = Record<'bus' | 'joins' | 'consumes' | 'resync' | 'signaling', number>;

/**
 * Shares of one core an edge's main thread (Node runs signaling and the mediasoup API
 * there) spends at the end of the join ramp with `perEdge` participants: decoding the bus
 * messages it hears, its own joins, reading the room back every KASKADE_RESYNC_MS (every
 * participant's and stream's entry, a lecture's audience included), telling
 * its participants of each join (a meeting announces everyone; a lecture sends a head count
 * a second) and, in a meeting, consuming each newcomer's streams for everyone here (the SDK
 * subscribes to every stream) besides the newcomer's own consumes of every stream.
 */
export function mainThreadLoad(
  c: Conference,
  f: Figures,
  perEdge: number,
  busMessagesPerSecond = 0,
): MainThreadLoad {
  const participants = participantsOf(c);
  const here = Math.min(perEdge, participants);
  const joinsPerSecond = participants / c.joinSeconds;
  // Edges share the joins: each takes its participants' share of them.
  const joinsHere = participants > 0 ? (joinsPerSecond * here) / participants : 0;
  const meeting = c.kind === 'meeting';
  const newcomerStreams = (c.microphones + c.cameras) / Math.max(1, participants);
  const held = Math.min(consumersPerParticipant(c), c.options.maxConsumersPerParticipant);
  return {
    bus: (busMessagesPerSecond * f.busDecodeUs) / 1e6,
    joins: (joinsHere * f.edgeCpuPerJoinMs) / 1000,
    consumes: meeting
      ? ((joinsPerSecond * newcomerStreams * here + joinsHere * held) * f.consumeCpuMs) / 1000
      : 0,
    resync: (directoryEntriesOf(c) * f.directoryReadUsPerEntry) / (c.options.resyncMs / 1000) / 1e6,
    signaling: ((meeting ? joinsPerSecond * here : here) * f.signalingSendUs) / 1e6,
  };
}

export const totalShare = (load: MainThreadLoad) => Object.values(load).reduce((a, b) => a + b, 0);

/** The most participants an edge's main thread takes within the target load (it grows linearly with them). */
export function mainThreadBound(c: Conference, f: Figures): number {
  const fixed = totalShare(mainThreadLoad(c, f, 0));
  const slope = totalShare(mainThreadLoad(c, f, 1)) - fixed;
  if (slope <= 0) return Number.POSITIVE_INFINITY;
  return Math.max(0, Math.floor((c.targetLoad - fixed) / slope));
}
