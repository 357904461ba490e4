import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { Bus } from '../../control-plane/common/bus.ts';
import { KaskadeError } from '../../control-plane/common/errors.ts';
import type { Source } from '../../control-plane/protocol/media.ts';
import { PipeEvent, Subjects } from '../../control-plane/protocol/nats.ts';
import type { CascadeMetrics } from './CascadeMetrics.ts';
import { PipeLink } from './PipeLink.ts';

/** A producer this node originates, as the relay needs to see it. */
export interface LocalProducer {
  producer: types.Producer;
  source: Source;
  participantId: string;
}

export interface RelayOptions {
  nodeId: string;
  region: string;
  bus: Bus;
  /** Address pipe transports listen on, and the one announced to other nodes. */
  listenIp: string;
  announcedAddress?: string;
  /** UDP ports pipe transports take theirs from, so a firewall between nodes can name them. */
  portRange: types.TransportPortRange;
  /** How long a copy nobody consumes is kept, so quick re-subscriptions are cheap. */
  lingerMs: number;
  logger: Logger;
  metrics: CascadeMetrics;
  /** The region of another node, where known (heartbeats), for metrics by region pair. */
  regionOf?: (nodeId: string) => string | undefined;
  /** The router of a room on this node that pipe links attach to, if the node carries the room. */
  routerFor: (room: string) => Promise<types.Router | undefined>;
  /**
   * A producer this node can send, present on routerFor(room): one that originates
   * here, or (relay nodes) a copy fetched from `origin`.
   */
  findProducer: (room: string, producerId: string, origin?: string) => Promise<LocalProducer | undefined>;
}

export interface LinkCensus {
  room: string;
  remoteNode: string;
  copies: number;
  sends: number;
  bytesIn: number;
  bytesOut: number;
}

const key = (room: string, id: string) => `${room}\u0000${id}`;

/**
 * The cross-host pipe machinery of one media node. fetch() makes a local copy of a
 * producer that originates on another node: over one PipeTransport pair per (room,
 * node, node), opened on first need by NATS request/reply (ip, port, SRTP key
 * exchanged), reused for every stream between the two, closed when its last stream
 * goes. The copy keeps the producer's id. The origin side answers the same protocol
 * and tells holders of copies when the origin pauses, resumes or closes.
 */
export class Relay extends EventEmitter<{
  linkopened: [room: string, remoteNode: string];
  linkclosed: [room: string, remoteNode: string];
  /** A link stopped carrying a producer downstream. */
  sendclosed: [room: string, producerId: string];
  /** A downstream node paused or resumed a producer it takes from here. */
  demandchanged: [room: string, producerId: string];
}> {
  readonly #options: RelayOptions;
  readonly #links = new Map<string, PipeLink>();
  readonly #linkPromises = new Map<string, Promise<PipeLink>>();
  readonly #copyPromises = new Map<string, Promise<types.Producer>>();
  readonly #lingers = new Map<string, NodeJS.Timeout>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: RelayOptions) {
    super();
    this.#options = options;
  }

  /** Serves the origin side of the protocol and listens for events about copies. */
  start(): void {
    const { bus, nodeId } = this.#options;
    // Who asks (fromNode) is the sender the subject names: nats-server let only that node's credentials publish it.
    bus.serveRpc('pipe.openLink', async ({ room, region, endpoint }, fromNode) => {
      // Both ends opening the same link at once: the smaller node id's attempt wins, the
      // other side gets CONFLICT and then finds the link this handler made.
      if (this.#linkPromises.has(key(room, fromNode)) && nodeId < fromNode) {
        throw new KaskadeError('CONFLICT', `${nodeId} is opening this link itself`);
      }
      // The remote (re)opens: a link it had before is stale (it restarted, or it closed its end).
      this.#links.get(key(room, fromNode))?.close();
      const link = await this.#createLink(room, fromNode);
      link.remoteRegion = region;
      await link.transport.connect(endpoint);
      this.emit('linkopened', room, fromNode);
      return { endpoint: link.endpoint, region: this.#options.region };
    });
    bus.serveRpc('pipe.consume', async ({ room, producerId, origin }, fromNode) => {
      const link = this.#links.get(key(room, fromNode));
      if (!link) throw new KaskadeError('INVALID_STATE', `no link for ${room} with ${fromNode}`);
      const local = await this.#options.findProducer(room, producerId, origin);
      if (!local) throw new KaskadeError('NOT_FOUND', `no producer ${producerId} in ${room} here`);
      const consumer = link.sends.get(producerId) ?? (await this.#send(link, local.producer));
      return {
        producerId,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
        paused: local.producer.paused,
        source: local.source,
        participantId: local.participantId,
      };
    });
    bus.serveRpc('pipe.release', async ({ room, producerId }, fromNode) => {
      this.#links.get(key(room, fromNode))?.sends.get(producerId)?.close();
      return {};
    });
    bus.serveRpc('pipe.demand', async ({ room, producerId, wanted }, fromNode) => {
      const send = this.#links.get(key(room, fromNode))?.sends.get(producerId);
      if (!send) throw new KaskadeError('NOT_FOUND', `${producerId} is not sent to ${fromNode}`);
      if (wanted) await send.resume();
      else await send.pause();
      this.emit('demandchanged', room, producerId);
      return {};
    });
    bus.serveRpc('pipe.closeLink', async ({ room }, fromNode) => {
      this.#links.get(key(room, fromNode))?.close();
      return {};
    });
    this.#unsubscribe = bus.subscribe(Subjects.nodePipeEvents(nodeId, '*'), PipeEvent, (e, fromNode) =>
      this.#onPipeEvent(e, fromNode),
    );
  }

  /**
   * A local copy of `producerId`, which originates on `originNode`, taken from `via`
   * (a relay node) or straight from the origin; one copy however many ask at once.
   */
  fetch(room: string, originNode: string, producerId: string, via = originNode): Promise<types.Producer> {
    const k = key(room, producerId);
    clearTimeout(this.#lingers.get(k));
    this.#lingers.delete(k);
    let copy = this.#copyPromises.get(k);
    if (!copy) {
      copy = this.#options.metrics.timeSetup(
        this.#fetch(room, via, producerId, originNode),
        () => this.#links.get(key(room, via))?.remoteRegion || this.#options.regionOf?.(via),
      );
      this.#copyPromises.set(k, copy);
      copy.catch(() => this.#copyPromises.delete(k));
    }
    return copy;
  }

  /** Nobody here consumes the copy any more: drop it after the linger unless fetched again. */
  release(room: string, producerId: string): void {
    const k = key(room, producerId);
    if (!this.#copyPromises.has(k) || this.#lingers.has(k)) return;
    this.#lingers.set(
      k,
      setTimeout(() => {
        this.#lingers.delete(k);
        void this.#copyPromises.get(k)?.then(
          (copy) => copy.close(),
          () => undefined,
        );
      }, this.#options.lingerMs),
    );
  }

  /** Tells the node this copy comes from whether anyone here wants it now. */
  async setDemand(room: string, producerId: string, wanted: boolean): Promise<void> {
    const link = this.links().find((l) => l.room === room && l.copies.has(producerId));
    if (!link) return;
    await this.#options.bus.rpc(link.remoteNode, 'pipe.demand', { room, producerId, wanted });
  }

  /** Whether any downstream link wants the producer (has it and has not paused it). */
  wanted(room: string, producerId: string): boolean {
    return this.links().some((l) => l.room === room && l.sends.get(producerId)?.paused === false);
  }

  /** Whether any link still carries the producer downstream. */
  sending(room: string, producerId: string): boolean {
    return this.links().some((l) => l.room === room && l.sends.has(producerId));
  }

  /** What each link carries, for census endpoints and benchmarks (bytes from the transports' stats). */
  async census(): Promise<LinkCensus[]> {
    return Promise.all(
      this.links().map(async (l) => {
        const [stats] = await l.transport.getStats().catch(() => []);
        return {
          room: l.room,
          remoteNode: l.remoteNode,
          copies: l.copies.size,
          sends: l.sends.size,
          bytesIn: stats?.bytesReceived ?? 0,
          bytesOut: stats?.bytesSent ?? 0,
        };
      }),
    );
  }

  /** Links of this node, for census and tests. */
  links(): PipeLink[] {
    return [...this.#links.values()];
  }

  /** Closes every link to a node (it died); copies from it close with them. */
  closeNode(remoteNode: string): void {
    for (const link of this.links()) if (link.remoteNode === remoteNode) link.close();
  }

  /** Closes every link of a room (the room closed here). */
  closeRoom(room: string): void {
    for (const link of this.links()) if (link.room === room) link.close();
  }

  close(): void {
    this.#unsubscribe?.();
    for (const timer of this.#lingers.values()) clearTimeout(timer);
    for (const link of this.links()) link.close();
  }

  async #fetch(room: string, upstream: string, producerId: string, origin: string): Promise<types.Producer> {
    const { bus } = this.#options;
    const link = await this.#linkTo(room, upstream).catch((error: unknown) => {
      if (error instanceof KaskadeError && error.code === 'CONFLICT')
        return this.#linkOpenedBy(room, upstream);
      throw error;
    });
    let copy: types.Producer;
    link.pending++;
    try {
      const answer = await bus.rpc(upstream, 'pipe.consume', { room, producerId, origin });
      if (link.closed) throw new KaskadeError('UNAVAILABLE', 'pipe link closed while piping');
      copy = await link.transport.produce({
        id: producerId,
        kind: answer.kind,
        rtpParameters: answer.rtpParameters,
        paused: answer.paused,
        appData: { source: answer.source, participantId: answer.participantId, originNode: origin, upstream },
      });
    } catch (error) {
      link.pending--;
      // A link opened for nothing must not stay open.
      if (!link.closed) this.#closeIfEmpty(link);
      throw error;
    }
    link.pending--;
    link.copies.set(producerId, copy);
    copy.observer.once('close', () => {
      link.copies.delete(producerId);
      this.#copyPromises.delete(key(room, producerId));
      if (!link.closed) {
        bus.rpc(upstream, 'pipe.release', { room, producerId }).catch(() => undefined);
        this.#closeIfEmpty(link);
      }
    });
    return copy;
  }

  /** The link the remote is opening to us right now (we lost the tie-break). */
  #linkOpenedBy(room: string, remoteNode: string, timeoutMs = 5000): Promise<PipeLink> {
    const k = key(room, remoteNode);
    const open = this.#links.get(k);
    if (open && !open.closed) return Promise.resolve(open);
    return new Promise((resolve, reject) => {
      const onOpened = (r: string, n: string) => {
        if (r !== room || n !== remoteNode) return;
        stop();
        resolve(this.#links.get(k)!);
      };
      const timer = setTimeout(() => {
        stop();
        reject(new KaskadeError('UNAVAILABLE', `${remoteNode} did not open the link for ${room}`));
      }, timeoutMs);
      const stop = () => {
        clearTimeout(timer);
        this.off('linkopened', onOpened);
      };
      this.on('linkopened', onOpened);
    });
  }

  #linkTo(room: string, remoteNode: string): Promise<PipeLink> {
    const k = key(room, remoteNode);
    const open = this.#links.get(k);
    if (open && !open.closed) return Promise.resolve(open);
    let pending = this.#linkPromises.get(k);
    if (!pending) {
      pending = (async () => {
        const link = await this.#createLink(room, remoteNode);
        try {
          const { endpoint, region } = await this.#options.bus.rpc(remoteNode, 'pipe.openLink', {
            room,
            region: this.#options.region,
            endpoint: link.endpoint,
          });
          link.remoteRegion = region;
          await link.transport.connect(endpoint);
          return link;
        } catch (error) {
          link.close();
          throw error;
        }
      })().finally(() => this.#linkPromises.delete(k));
      this.#linkPromises.set(k, pending);
    }
    return pending;
  }

  async #createLink(room: string, remoteNode: string): Promise<PipeLink> {
    const router = await this.#options.routerFor(room);
    if (!router) throw new KaskadeError('NOT_FOUND', `room ${room} is not on this node`);
    const transport = await router.createPipeTransport({
      listenInfo: {
        protocol: 'udp',
        ip: this.#options.listenIp,
        announcedAddress: this.#options.announcedAddress,
        portRange: this.#options.portRange,
      },
      enableSrtp: true,
      enableSctp: false,
    });
    const link = new PipeLink(room, remoteNode, transport);
    const k = key(room, remoteNode);
    this.#links.set(k, link);
    transport.observer.once('close', () => {
      if (this.#links.get(k) === link) this.#links.delete(k);
      this.emit('linkclosed', room, remoteNode);
    });
    return link;
  }

  /** Origin side: carry a local producer over a link and tell the holder what happens to it. */
  async #send(link: PipeLink, producer: types.Producer): Promise<types.Consumer> {
    const consumer = await link.transport.consume({ producerId: producer.id });
    link.sends.set(producer.id, consumer);
    const tell = (event: PipeEvent['event']) =>
      this.#options.bus.publish(Subjects.nodePipeEvents(link.remoteNode, this.#options.nodeId), PipeEvent, {
        room: link.room,
        producerId: producer.id,
        event,
      });
    consumer.on('producerpause', () => tell('pause'));
    consumer.on('producerresume', () => tell('resume'));
    consumer.on('producerclose', () => tell('close'));
    consumer.observer.once('close', () => {
      link.sends.delete(producer.id);
      this.emit('sendclosed', link.room, producer.id);
    });
    // A new taker may want what every other taker had paused.
    this.emit('demandchanged', link.room, producer.id);
    return consumer;
  }

  #onPipeEvent({ room, producerId, event }: PipeEvent, fromNode: string): void {
    const copy = this.#links.get(key(room, fromNode))?.copies.get(producerId);
    if (!copy) return;
    if (event === 'close') copy.close();
    else if (event === 'pause') void copy.pause();
    else void copy.resume();
  }

  #closeIfEmpty(link: PipeLink): void {
    if (!link.empty) return;
    link.close();
    this.#options.bus.rpc(link.remoteNode, 'pipe.closeLink', { room: link.room }).catch(() => undefined);
  }
}
