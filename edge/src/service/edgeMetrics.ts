import { labelCombinations, preinitialisedCounter, preinitialisedHistogram } from '@kaskade/node-toolkit';
import { ErrorCodes } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import { type Counter, Gauge, type Histogram, type Registry } from 'prom-client';
import type { Participant } from '../rtc/Participant.ts';
import type { RoomManager } from '../rtc/RoomManager.ts';

/** What producers and consumers share for RTP tracing. */
type Traceable = Pick<types.Producer, 'enableTraceEvent' | 'closed'> & {
  once(event: 'trace', listener: () => void): unknown;
  observer: { once(event: 'close', listener: () => void): unknown };
};

/** Why a join failed: an error code, or no join request before the deadline. */
export type JoinFailure = (typeof ErrorCodes)[number] | 'TIMEOUT';

/** Why the edge refused a client's socket or request to protect itself (limits against hostile clients). */
export const RefusalReasons = [
  'rate_limited',
  'before_join',
  'slow_reader',
  'per_address',
  'consumer_cap',
] as const;
export type RefusalReason = (typeof RefusalReasons)[number];

/**
 * The edge's session metrics: joins by result and reason, how long joining takes (to
 * the answer, and to the first media packet), rooms, participants, WebSockets,
 * ICE/DTLS failures and reconnects. Media and worker metrics are MediaMetrics'.
 */
export class EdgeMetrics {
  readonly websockets: Gauge;
  readonly #joins: Counter<'result' | 'reason'>;
  readonly #joinSeconds: Histogram<'stage'>;
  readonly #transportFailures: Counter<'reason'>;
  readonly #reconnects: Counter<'kind'>;
  readonly #refusals: Counter<'reason'>;

  constructor(registry: Registry, rooms: RoomManager) {
    const registers = [registry];
    this.#joins = preinitialisedCounter({
      name: 'kaskade_joins_total',
      help: 'Join attempts on this edge: result ok with reason none, or failed with the error code (timeout: no join request in time)',
      labelNames: ['result', 'reason'],
      registers,
      zeroed: [
        { result: 'ok', reason: 'none' },
        ...labelCombinations({
          result: ['failed'],
          reason: [...ErrorCodes, 'TIMEOUT'].map((code) => code.toLowerCase()),
        }),
      ],
    });
    this.#joinSeconds = preinitialisedHistogram({
      name: 'kaskade_join_seconds',
      help: 'Join latency: stage joined = WebSocket open to join answered; first_media = join request to the first RTP packet to or from the participant',
      labelNames: ['stage'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
      zeroed: labelCombinations({ stage: ['joined', 'first_media'] }),
    });
    this.#transportFailures = preinitialisedCounter({
      name: 'kaskade_transport_failures_total',
      help: 'WebRTC transports that lost ICE connectivity (ice_disconnected) or failed DTLS (dtls_failed)',
      labelNames: ['reason'],
      registers,
      zeroed: labelCombinations({ reason: ['ice_disconnected', 'dtls_failed'] }),
    });
    this.#reconnects = preinitialisedCounter({
      name: 'kaskade_reconnects_total',
      help: 'Clients recovering: rejoin = a join flagged as a reconnect by the SDK, ice_restart = an ICE restart',
      labelNames: ['kind'],
      registers,
      zeroed: labelCombinations({ kind: ['rejoin', 'ice_restart'] }),
    });
    this.#refusals = preinitialisedCounter({
      name: 'kaskade_signaling_refusals_total',
      help: 'Requests or sockets refused by a limit: rate_limited, before_join (socket closed 4400), slow_reader (closed 4413), per_address (429), consumer_cap',
      labelNames: ['reason'],
      registers,
      zeroed: labelCombinations({ reason: RefusalReasons }),
    });
    this.websockets = new Gauge({
      name: 'kaskade_websocket_connections',
      help: 'Open signaling WebSockets',
      registers,
    });
    new Gauge({
      name: 'kaskade_rooms',
      help: 'Rooms open on this node',
      registers,
      collect() {
        this.set(rooms.openRooms().length);
      },
    });
    new Gauge({
      name: 'kaskade_participants',
      help: 'Participants connected to this node',
      registers,
      collect() {
        this.set(rooms.connectedParticipants);
      },
    });
  }

  /** A join failed: with the code its client was answered with, or no join request in time. */
  joinFailed(reason: JoinFailure): void {
    this.#joins.inc({ result: 'failed', reason: reason.toLowerCase() });
  }

  /**
   * A join succeeded: counts it, times it, and watches the participant's transports
   * for failures and for its first media packet.
   */
  joined(
    participant: Participant,
    times: { socketOpenedAt: number; joinRequestedAt: number },
    reconnect: boolean,
  ): void {
    this.#joins.inc({ result: 'ok', reason: 'none' });
    this.#joinSeconds.observe({ stage: 'joined' }, (performance.now() - times.socketOpenedAt) / 1000);
    if (reconnect) this.#reconnects.inc({ kind: 'rejoin' });
    let traced: Traceable | undefined;
    let seen = false;
    // The first media packet is found by RTP tracing one producer or consumer at a time,
    // then tracing is switched off: one trace event per participant, not one per packet.
    const trace = (media: types.Producer | types.Consumer) => {
      const object = media as unknown as Traceable;
      if (seen || traced) return;
      traced = object;
      void object.enableTraceEvent(['rtp']).catch(() => undefined);
      object.once('trace', () => {
        if (seen) return;
        seen = true;
        this.#joinSeconds.observe(
          { stage: 'first_media' },
          (performance.now() - times.joinRequestedAt) / 1000,
        );
        if (!object.closed) void object.enableTraceEvent([]).catch(() => undefined);
      });
      object.observer.once('close', () => {
        if (traced === object) traced = undefined;
      });
    };
    participant.observer.on('newtransport', (transport) => {
      const observer = transport.observer as types.TransportObserver;
      observer.on('newproducer', trace);
      observer.on('newconsumer', trace);
      if (transport.type !== 'webrtc') return;
      const webrtc = transport as types.WebRtcTransport;
      webrtc.on('icestatechange', (state) => {
        if (state === 'disconnected') this.#transportFailures.inc({ reason: 'ice_disconnected' });
      });
      webrtc.on('dtlsstatechange', (state) => {
        if (state === 'failed') this.#transportFailures.inc({ reason: 'dtls_failed' });
      });
    });
  }

  /** A limit refused a request or a socket. */
  refused(reason: RefusalReason): void {
    this.#refusals.inc({ reason });
  }

  iceRestarted(): void {
    this.#reconnects.inc({ kind: 'ice_restart' });
  }
}
