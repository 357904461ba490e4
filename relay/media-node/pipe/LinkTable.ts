import { EventEmitter } from 'node:events';
import type { LinkEndpoint } from '@kaskade/protocol';
import { KaskadeError } from '@kaskade/protocol';
import { LinkShaping } from './LinkShaping.ts';
import { PipeLink } from './PipeLink.ts';
import type { LinkAppData, PipeMachineryOptions } from './types.ts';

export const key = (room: string, id: string) => `${room}\u0000${id}`;

/**
 * The links of one node, one per (room, remote node): opened on first need by NATS
 * request/reply (ip, port, SRTP key exchanged) from either side, closed when idle,
 * when the remote closes its end, or when the node or the room goes.
 */
export class LinkTable {
  readonly #options: PipeMachineryOptions;
  readonly #onRoomIdle: (room: string) => void;
  readonly #links = new Map<string, PipeLink>();
  readonly #opening = new Map<string, Promise<PipeLink>>();
  /** Internal only: tells a losing tie-break when the winner's link arrived. */
  readonly #opened = new EventEmitter<{ opened: [room: string, remoteNode: string] }>();

  constructor(options: PipeMachineryOptions, onRoomIdle: (room: string) => void) {
    this.#options = options;
    this.#onRoomIdle = onRoomIdle;
  }

  get(room: string, remoteNode: string): PipeLink | undefined {
    return this.#links.get(key(room, remoteNode));
  }

  all(): PipeLink[] {
    return [...this.#links.values()];
  }

  /** The open link to `remoteNode` for `room`, opened by us or (tie-break lost) by it. */
  async open(room: string, remoteNode: string): Promise<PipeLink> {
    return this.#linkTo(room, remoteNode).catch((error: unknown) => {
      if (error instanceof KaskadeError && error.code === 'CONFLICT') return this.#openedBy(room, remoteNode);
      throw error;
    });
  }

  /** The remote side of pipe.openLink: `fromNode` (re)opens its link to us. */
  async accept(
    room: string,
    fromNode: string,
    region: string,
    endpoint: LinkEndpoint,
  ): Promise<{ endpoint: LinkEndpoint; region: string }> {
    const { nodeId } = this.#options;
    const k = key(room, fromNode);
    // Both ends opening the same link at once: the smaller node id's attempt wins, the
    // other side gets CONFLICT and then finds the link this handler made.
    if (this.#opening.has(k) && nodeId < fromNode) {
      throw new KaskadeError('CONFLICT', `${nodeId} is opening this link itself`);
    }
    // The remote (re)opens: a link it had before is stale (it restarted, or it closed its end).
    this.#links.get(k)?.close();
    const link = await this.#create(room, fromNode);
    link.learnRegion(region);
    await link.connect(endpoint);
    this.#opened.emit('opened', room, fromNode);
    return { endpoint: link.endpoint, region: this.#options.region };
  }

  /** Closes a link nothing uses any more, and tells the remote to close its end. */
  closeIfEmpty(link: PipeLink): void {
    if (link.closed || !link.empty) return;
    const linkId = link.linkId; // before close: the transport's parameters go with it
    link.close();
    this.#options.bus
      .rpc(link.remoteNode, 'pipe.closeLink', { room: link.room, linkId })
      .catch(() => undefined);
  }

  closeWhere(test: (link: PipeLink) => boolean): void {
    for (const link of this.all()) if (test(link)) link.close();
  }

  #linkTo(room: string, remoteNode: string): Promise<PipeLink> {
    const k = key(room, remoteNode);
    const open = this.#links.get(k);
    if (open && !open.closed) return Promise.resolve(open);
    let pending = this.#opening.get(k);
    if (!pending) {
      pending = (async () => {
        const link = await this.#create(room, remoteNode);
        try {
          const { endpoint, region } = await this.#options.bus.rpc(remoteNode, 'pipe.openLink', {
            room,
            region: this.#options.region,
            endpoint: link.endpoint,
          });
          link.learnRegion(region);
          await link.connect(endpoint);
          return link;
        } catch (error) {
          link.close();
          throw error;
        }
      })().finally(() => this.#opening.delete(k));
      this.#opening.set(k, pending);
    }
    return pending;
  }

  /** The link the remote is opening to us right now (we lost the tie-break). */
  #openedBy(room: string, remoteNode: string, timeoutMs = 5000): Promise<PipeLink> {
    const k = key(room, remoteNode);
    const open = this.#links.get(k);
    if (open && !open.closed) return Promise.resolve(open);
    return new Promise((resolve, reject) => {
      const onOpened = (r: string, n: string) => {
        const link = this.#links.get(k);
        if (r !== room || n !== remoteNode || !link) return;
        stop();
        resolve(link);
      };
      const timer = setTimeout(() => {
        stop();
        reject(new KaskadeError('UNAVAILABLE', `${remoteNode} did not open the link for ${room}`));
      }, timeoutMs);
      const stop = () => {
        clearTimeout(timer);
        this.#opened.off('opened', onOpened);
      };
      this.#opened.on('opened', onOpened);
    });
  }

  async #create(room: string, remoteNode: string): Promise<PipeLink> {
    const router = await this.#options.host.routerFor(room);
    if (!router) throw new KaskadeError('NOT_FOUND', `room ${room} is not on this node`);
    const transport = await router.createPipeTransport<LinkAppData>({
      listenInfo: {
        protocol: 'udp',
        ip: this.#options.listenIp,
        announcedAddress: this.#options.announcedAddress,
        portRange: this.#options.portRange,
        sendBufferSize: this.#options.socketBufferBytes,
        recvBufferSize: this.#options.socketBufferBytes,
      },
      enableSrtp: true,
      enableSctp: false,
      appData: { room, remoteNode, remoteRegion: '' },
    });
    const link = new PipeLink(transport, new LinkShaping(router, this.#options.keyFrameRequestDelayMs ?? 0));
    const k = key(room, remoteNode);
    this.#links.set(k, link);
    link.onClose(() => {
      if (this.#links.get(k) === link) this.#links.delete(k);
      const busy = [...this.#links.values()].some((l) => l.room === room);
      // Another link of the room on its way needs the router (this one's own failed opening does not).
      const opening = [...this.#opening.keys()].some((o) => o !== k && o.startsWith(key(room, '')));
      if (!busy && !opening) this.#onRoomIdle(room);
    });
    return link;
  }
}
