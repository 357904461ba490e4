import type { Bus } from '@kaskade/node-toolkit';
import type { Source } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** A producer a node can send over a link, as the pipe machinery needs to see it. */
export interface LocalProducer {
  producer: types.Producer;
  source: Source;
  participantId: string;
}

/**
 * What the pipe machinery needs from the media node it runs on (an edge or a relay
 * node). One named interface rather than closures, so a reader finds both
 * implementations (edge/src/routing/EdgePipeHost.ts, relay/service/RelayNode.ts).
 */
export interface PipeHost {
  /** The router of a room on this node that links attach to; undefined if the node does not carry the room. */
  routerFor(room: string): Promise<types.Router | undefined>;
  /**
   * A producer this node can send, on routerFor(room): one that originates here, or
   * (relay nodes) a copy fetched from `origin`.
   */
  producerFor(room: string, producerId: string, origin?: string): Promise<LocalProducer | undefined>;
}

/** appData of a link's PipeTransport. */
export interface LinkAppData {
  [key: string]: unknown;
  room: string;
  remoteNode: string;
  /** Region of the remote node, learnt in the openLink exchange ('' until then). */
  remoteRegion: string;
}

/** appData of a copy: a producer on a link, fed by the upstream node. */
export interface CopyAppData {
  [key: string]: unknown;
  room: string;
  source: Source;
  participantId: string;
  originNode: string;
  /** The node the copy comes from: the origin, or a relay. */
  upstream: string;
  /** The origin's producer id. The first copy keeps it as its own id; a rerouted copy has a fresh one. */
  streamId: string;
}

/** appData of a send: a pipe consumer carrying a local producer to the remote node. */
export interface SendAppData {
  [key: string]: unknown;
  room: string;
  remoteNode: string;
  /** The origin's producer id, by which the remote node asked for it. */
  streamId: string;
}

/** A copy as the machinery reports it (plain data: closing goes through retire()). */
export interface CopyInfo {
  room: string;
  /** The origin's producer id. */
  producerId: string;
  /** The copy's own producer id on this node (differs from producerId after a reroute). */
  localId: string;
  origin: string;
  upstream: string;
  /** false for a copy a reroute superseded, still open until retire() or its deadline. */
  current: boolean;
  paused: boolean;
}

/** A send as the machinery reports it: a local producer carried to `remoteNode`. */
export interface SendInfo {
  room: string;
  remoteNode: string;
  /** The origin's producer id the remote node asked for. */
  producerId: string;
  /** Paused by the remote node's demand (nobody there wants it now). */
  paused: boolean;
  /** Simulcast: the spatial layers the link carries now (what the remote's demand names); null for other streams. */
  spatialLayers: number[] | null;
}

/** One stream a link carries, for census endpoints and benchmarks. */
export interface SendCensus {
  /** The origin's producer id. */
  producerId: string;
  /** Bytes of its RTP sent over the link so far. */
  bytesOut: number;
  /** Simulcast layers forwarded now (none while paused); null for a stream without layers. */
  spatialLayers: number[] | null;
}

/** What each link carries, for census endpoints and benchmarks (bytes from the transports' stats). */
export interface LinkCensus {
  room: string;
  remoteNode: string;
  copies: number;
  sends: number;
  bytesIn: number;
  bytesOut: number;
  /** The streams this node sends over the link. */
  streams: SendCensus[];
}

/** A link as the machinery reports it. */
export interface LinkInfo {
  room: string;
  remoteNode: string;
  remoteRegion: string;
  copies: number;
  sends: number;
  /** UDP port the link listens on here. */
  localPort: number;
  /** Simulcast layers of the link's sends: forwarded now, and held back (nobody there wants them). */
  shapedLayers: { forwarding: number; paused: number };
}

export interface PipeMachineryOptions {
  nodeId: string;
  region: string;
  bus: Bus;
  host: PipeHost;
  /** Address pipe transports listen on, and the one announced to other nodes. */
  listenIp: string;
  announcedAddress?: string;
  /** UDP ports pipe transports take theirs from, so a firewall between nodes can name them. */
  portRange: types.TransportPortRange;
  /** Send and receive buffer of each pipe transport's socket (mediasoup sendBufferSize/recvBufferSize). */
  socketBufferBytes?: number;
  /** How long a copy nobody consumes is kept, so quick re-subscriptions are cheap. */
  lingerMs: number;
  /** A link whose copies should flow and that received nothing for this long is suspect. */
  silenceMs: number;
  /** Key-frame requests for a copy within this window reach its upstream as one (mediasoup keyFrameRequestDelay). */
  keyFrameRequestDelayMs?: number;
  /** How long reroute() waits for the new copy's first packet before it gives up. */
  firstPacketTimeoutMs?: number;
  /** A copy a reroute superseded is closed this long after, if nobody retired it. */
  supersededMs?: number;
  /**
   * Relay nodes: what downstream nodes want passes upstream (a copy is paused upstream
   * while every downstream link paused it, released when none takes it any more).
   */
  forwardDemand?: boolean;
  logger: Logger;
  /** Where the machinery's metrics (CascadeMetrics) are registered. */
  registry: Registry;
  /** The region of another node, where known (heartbeats), for metrics by region pair. */
  regionOf?: (nodeId: string) => string | undefined;
}

/** Events the machinery tells its owner; only the machinery emits them. */
export interface PipeEvents {
  /**
   * A link from `remoteNode` whose copies should be flowing (not paused at the origin,
   * wanted here) received no packet, RTP or RTCP, for silenceMs. Once per silence.
   */
  suspect: [remoteNode: string, room: string];
  /** A suspect link received packets again. */
  recovered: [remoteNode: string, room: string];
  /** The last link of a room closed here (a relay node closes the room's router). */
  roomidle: [room: string];
}
