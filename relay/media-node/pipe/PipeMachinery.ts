import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { KaskadeError, PipeEvent, type StreamDemand, Subjects } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { CascadeMetrics } from './CascadeMetrics.ts';
import { sameDemand } from './demand.ts';
import { key, LinkTable } from './LinkTable.ts';
import { LinkWatch } from './LinkWatch.ts';
import type { PipeLink } from './PipeLink.ts';
import { SendSide } from './SendSide.ts';
import type {
  CopyAppData,
  CopyInfo,
  LinkCensus,
  LinkInfo,
  PipeEvents,
  PipeMachineryOptions,
  SendInfo,
} from './types.ts';

type Copy = types.Producer<CopyAppData>;

/** The copy of a stream later fetch() calls get, while it is set up and once it is. */
interface Current {
  copy: Promise<Copy>;
  resolved?: Copy;
}

const FIRST_PACKET_POLL_MS = 25;

/**
 * The cross-host pipe machinery of one media node, and the only code that creates or
 * closes links, copies and sends. fetch() makes a local copy of a producer that
 * originates on another node, over one link per (room, node, node) reused for every
 * stream between the two (LinkTable); the send side answers the same protocol for
 * the nodes that take streams from here (SendSide). reroute() brings a second copy
 * over another upstream and makes it current once it receives, so the path of a
 * stream changes without a gap; the superseded copy stays until retire(). Links
 * whose copies should flow but that went silent are reported as 'suspect'.
 */
export class PipeMachinery {
  readonly #options: PipeMachineryOptions;
  readonly #logger: Logger;
  readonly #metrics: CascadeMetrics;
  readonly #links: LinkTable;
  readonly #sends: SendSide;
  readonly #events = new EventEmitter<PipeEvents>();
  readonly #current = new Map<string, Current>();
  /** Copies a reroute replaced, each with the deadline that closes it if nobody retires it. */
  readonly #superseded = new Map<Copy, NodeJS.Timeout>();
  readonly #reroutes = new Map<string, { via: string; copy: Promise<Copy> }>();
  readonly #lingers = new Map<string, NodeJS.Timeout>();
  /**
   * What this node last told its upstream it wants of a stream (nothing: all viewers
   * paused; or some layers only). Absent: everything, as a new send starts.
   */
  readonly #demands = new Map<string, StreamDemand>();
  readonly #watch: LinkWatch;
  /** closeNode() calls waiting out their delay. */
  readonly #deadLinkTimers = new Set<NodeJS.Timeout>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: PipeMachineryOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'pipes' });
    this.#metrics = new CascadeMetrics(options.registry, () => this.links());
    this.#links = new LinkTable(options, (room) => this.#events.emit('roomidle', room));
    this.#sends = new SendSide(options, this.#links, this);
    this.#watch = new LinkWatch({
      silenceMs: options.silenceMs,
      links: () => this.#links.all().filter((l) => l.copies().length > 0),
      // Due: a copy neither paused at its origin nor unwanted here, so its upstream should be sending.
      due: (link) =>
        link
          .copies()
          .some((c) => !c.paused && this.#demands.get(key(link.room, c.appData.streamId))?.wanted !== false),
      tell: (verdict, link) => {
        this.#logger.info({ room: link.room, remoteNode: link.remoteNode, verdict }, 'pipe link silence');
        this.#events.emit(verdict, link.remoteNode, link.room);
      },
    });
  }

  /** Serves the upstream side of the protocol, listens for events about copies, watches links. */
  start(): void {
    const { bus, nodeId } = this.#options;
    this.#sends.serve();
    this.#unsubscribe = bus.subscribe(Subjects.nodePipeEvents(nodeId, '*'), PipeEvent, (e, fromNode) =>
      this.#onPipeEvent(e, fromNode),
    );
    this.#watch.start();
  }

  /** Listens to one of the machinery's events; returns the function that stops listening. */
  on<E extends keyof PipeEvents>(event: E, listener: (...args: PipeEvents[E]) => void): () => void {
    // Node's typed emitter cannot match a generic event name to its listener; the signature above checks callers.
    const untyped = listener as never;
    this.#events.on(event, untyped);
    return () => this.#events.off(event, untyped);
  }

  /**
   * The current local copy of `producerId`, which originates on `originNode`, taken
   * from `via` (a relay node) or straight from the origin; one copy however many ask at once.
   */
  fetch(room: string, originNode: string, producerId: string, via = originNode): Promise<Copy> {
    const k = key(room, producerId);
    this.#cancelLinger(k);
    const current = this.#current.get(k);
    if (current && !current.resolved?.closed) return current.copy;
    const entry: Current = {
      copy: this.#timed(this.#copy(room, via, producerId, originNode, producerId), via),
    };
    this.#current.set(k, entry);
    this.#demands.delete(k); // a new send upstream starts with everything
    entry.copy.then(
      (copy) => {
        entry.resolved = copy;
      },
      () => {
        if (this.#current.get(k) === entry) this.#current.delete(k);
      },
    );
    return entry.copy;
  }

  /**
   * Make-before-break: a second copy of the stream over `via`, with a fresh local id
   * (the first copy keeps the origin's). Resolves once its first packet arrived (at
   * once if the origin paused the stream) and makes it the current copy; the one it
   * replaces stays open until retire() or the superseded deadline. Without a copy
   * here there is nothing to keep: it is a plain fetch. CONFLICT if the stream already
   * comes over `via` (a link carries a stream once), UNAVAILABLE if nothing arrived in time.
   */
  reroute(room: string, originNode: string, producerId: string, via: string): Promise<Copy> {
    const k = key(room, producerId);
    this.#cancelLinger(k);
    const running = this.#reroutes.get(k);
    if (running?.via === via) return running.copy;
    if (running) {
      return Promise.reject(
        new KaskadeError('CONFLICT', `${producerId} is being rerouted over ${running.via}`),
      );
    }
    const copy = this.#reroute(room, originNode, producerId, via).finally(() => this.#reroutes.delete(k));
    this.#reroutes.set(k, { via, copy });
    return copy;
  }

  /** Closes a copy now (a superseded one once its viewers moved, or any copy); its link goes if empty. */
  retire(copy: Copy | CopyInfo): void {
    const localId = 'localId' in copy ? copy.localId : copy.id;
    for (const link of this.#links.all()) {
      for (const c of link.copies()) if (c.id === localId) c.close();
    }
  }

  /** Nobody here consumes the stream any more: drop its current copy after the linger unless fetched again. */
  release(room: string, producerId: string): void {
    const k = key(room, producerId);
    if (!this.#current.has(k) || this.#lingers.has(k)) return;
    this.#lingers.set(
      k,
      setTimeout(() => {
        this.#lingers.delete(k);
        void this.#current.get(k)?.copy.then(
          (copy) => copy.close(),
          () => undefined,
        );
      }, this.#options.lingerMs),
    );
  }

  /**
   * Tells the nodes copies of this stream come from what anyone here wants of it now:
   * nothing, or the simulcast layers its viewers want (the links carry only those).
   */
  async setDemand(room: string, producerId: string, demand: StreamDemand): Promise<void> {
    const holders = this.#links.all().filter((l) => l.room === room && l.copy(producerId));
    if (holders.length === 0) return;
    this.#demands.set(key(room, producerId), demand);
    await Promise.all(holders.map((l) => this.#tellDemand(room, producerId, l.remoteNode, demand)));
  }

  /** Every copy on this node, current and superseded. */
  copies(): CopyInfo[] {
    return this.#links.all().flatMap((link) =>
      link.copies().map((copy) => ({
        room: link.room,
        producerId: copy.appData.streamId,
        localId: copy.id,
        origin: copy.appData.originNode,
        upstream: copy.appData.upstream,
        current: this.#current.get(key(link.room, copy.appData.streamId))?.resolved === copy,
        paused: copy.paused,
      })),
    );
  }

  /** Every send of this node (streams it carries to other nodes). */
  sends(): SendInfo[] {
    return this.#links.all().flatMap((link) =>
      link.sends().map((send) => ({
        room: link.room,
        remoteNode: link.remoteNode,
        producerId: send.appData.streamId,
        paused: send.paused,
        spatialLayers: link.forwardedLayers(send.appData.streamId),
      })),
    );
  }

  /** Links of this node, for metrics, heartbeats and tests. */
  links(): LinkInfo[] {
    return this.#links.all().map((l) => l.info());
  }

  async census(): Promise<LinkCensus[]> {
    return Promise.all(
      this.#links.all().map(async (l) => {
        const { room, remoteNode, copies, sends } = l.info();
        return { room, remoteNode, copies, sends, ...(await l.census()), streams: await l.sendCensus() };
      }),
    );
  }

  /**
   * Closes every link to a node (it died); copies from it close with them. With a
   * delay (time for viewers to move off its copies), only the links open now close
   * then: a node that restarted under the same id meanwhile keeps its new links.
   */
  closeNode(remoteNode: string, delayMs = 0): void {
    const dead = new Set(this.#links.all().filter((l) => l.remoteNode === remoteNode));
    if (delayMs === 0) {
      for (const link of dead) link.close();
      return;
    }
    const timer = setTimeout(() => {
      this.#deadLinkTimers.delete(timer);
      for (const link of dead) link.close();
    }, delayMs);
    this.#deadLinkTimers.add(timer);
  }

  /** Closes every link of a room (the room closed here). */
  closeRoom(room: string): void {
    this.#links.closeWhere((l) => l.room === room);
  }

  close(): void {
    this.#unsubscribe?.();
    this.#watch.stop();
    for (const timer of [...this.#lingers.values(), ...this.#superseded.values(), ...this.#deadLinkTimers])
      clearTimeout(timer);
    this.#links.closeWhere(() => true);
  }

  async #copy(
    room: string,
    upstream: string,
    streamId: string,
    origin: string,
    localId: string,
  ): Promise<Copy> {
    const link = await this.#links.open(room, upstream);
    if (link.copy(streamId)) throw new KaskadeError('CONFLICT', `${streamId} already comes over ${upstream}`);
    const done = link.begin();
    let copy: Copy;
    try {
      const answer = await this.#options.bus.rpc(upstream, 'pipe.consume', {
        room,
        producerId: streamId,
        origin,
      });
      if (link.closed) throw new KaskadeError('UNAVAILABLE', 'pipe link closed while piping');
      copy = await link.produce({
        id: localId,
        kind: answer.kind,
        rtpParameters: answer.rtpParameters,
        paused: answer.paused,
        keyFrameRequestDelay: this.#options.keyFrameRequestDelayMs ?? 0,
        appData: {
          room,
          source: answer.source,
          participantId: answer.participantId,
          originNode: origin,
          upstream,
          streamId,
        },
      });
    } catch (error) {
      done();
      // A link opened for nothing must not stay open.
      this.#links.closeIfEmpty(link);
      throw error;
    }
    done();
    copy.observer.once('close', () => this.#closed(link, copy));
    return copy;
  }

  async #reroute(room: string, originNode: string, producerId: string, via: string): Promise<Copy> {
    const k = key(room, producerId);
    const old = await this.#current.get(k)?.copy.catch(() => undefined);
    if (!old || old.closed) return this.fetch(room, originNode, producerId, via);
    if (old.appData.upstream === via || this.#links.get(room, via)?.copy(producerId)) {
      throw new KaskadeError('CONFLICT', `${producerId} already comes over ${via}`);
    }
    const fresh = await this.#timed(this.#copy(room, via, producerId, originNode, randomUUID()), via);
    try {
      await this.#firstPacket(fresh);
    } catch (error) {
      fresh.close();
      throw error;
    }
    // Whatever was current (the old copy, or one a fetch made meanwhile) is superseded, not dropped.
    const previous = this.#current.get(k);
    this.#current.set(k, { copy: Promise.resolve(fresh), resolved: fresh });
    void previous?.copy.then(
      (c) => {
        if (c !== fresh && !c.closed) this.#supersede(c);
      },
      () => undefined,
    );
    // The new upstream sends everything from the start; tell it if less is wanted here now.
    const demand = this.#demands.get(k);
    if (demand && !sameDemand(demand, { wanted: true }))
      await this.#tellDemand(room, producerId, via, demand).catch(() => undefined);
    return fresh;
  }

  /** A copy closed (retired, released, its origin or link gone): forget it and free the upstream. */
  #closed(link: PipeLink, copy: Copy): void {
    const k = key(link.room, copy.appData.streamId);
    clearTimeout(this.#superseded.get(copy));
    this.#superseded.delete(copy);
    if (this.#current.get(k)?.resolved === copy) {
      this.#current.delete(k);
      this.#demands.delete(k);
    }
    if (link.closed) return;
    this.#options.bus
      .rpc(link.remoteNode, 'pipe.release', { room: link.room, producerId: copy.appData.streamId })
      .catch(() => undefined);
    this.#links.closeIfEmpty(link);
  }

  #supersede(copy: Copy): void {
    const deadline = this.#options.supersededMs ?? 10_000;
    this.#superseded.set(
      copy,
      setTimeout(() => {
        this.#logger.debug(
          { room: copy.appData.room, producer: copy.id },
          'superseded copy not retired in time',
        );
        copy.close();
      }, deadline),
    );
  }

  /** Waits for the copy's first packet: the new path carries media before anyone moves onto it. */
  async #firstPacket(copy: Copy): Promise<void> {
    const deadline = performance.now() + (this.#options.firstPacketTimeoutMs ?? 2000);
    while (!copy.closed && !copy.paused) {
      const stats = await copy.getStats().catch(() => []);
      if (stats.some((s) => s.byteCount > 0)) return;
      if (performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, FIRST_PACKET_POLL_MS));
    }
    if (copy.paused && !copy.closed) return; // paused at the origin: nothing to wait for
    throw new KaskadeError(
      'UNAVAILABLE',
      `no media from ${copy.appData.upstream} for ${copy.appData.streamId}`,
    );
  }

  #tellDemand(room: string, producerId: string, upstream: string, demand: StreamDemand) {
    return this.#options.bus.rpc(upstream, 'pipe.demand', { room, producerId, ...demand });
  }

  /** Setup time by the upstream's region, asked at the end: a new link learns it during the setup. */
  #timed(setup: Promise<Copy>, via: string): Promise<Copy> {
    return this.#metrics.timeSetup(setup, () => this.#regionOf(via));
  }

  #regionOf(node: string): string | undefined {
    return (
      this.#links.all().find((l) => l.remoteNode === node)?.remoteRegion || this.#options.regionOf?.(node)
    );
  }

  #cancelLinger(k: string): void {
    clearTimeout(this.#lingers.get(k));
    this.#lingers.delete(k);
  }

  #onPipeEvent({ room, producerId, event }: PipeEvent, fromNode: string): void {
    const copy = this.#links.get(room, fromNode)?.copy(producerId);
    if (!copy) return;
    if (event === 'close') copy.close();
    else if (event === 'pause') void copy.pause();
    else void copy.resume();
  }
}
