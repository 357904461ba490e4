import { KaskadeError, PipeEvent, type StreamDemand, Subjects } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import { NOTHING, unionDemand } from './demand.ts';
import type { LinkTable } from './LinkTable.ts';
import type { PipeLink } from './PipeLink.ts';
import type { PipeMachineryOptions, SendAppData } from './types.ts';

/** What the send side asks of the receiving side when it forwards demand (relay nodes). */
export interface DemandSink {
  release(room: string, producerId: string): void;
  setDemand(room: string, producerId: string, demand: StreamDemand): Promise<void>;
}

/**
 * The upstream half of the pipe protocol: carries producers of this node (its own, or
 * a relay's copies) over links to the nodes that ask, one send per (link, stream),
 * and tells those nodes when a producer pauses, resumes or closes. Who asks is the
 * sender the subject names: nats-server lets only that node's credentials publish it.
 */
export class SendSide {
  readonly #options: PipeMachineryOptions;
  readonly #links: LinkTable;
  readonly #demand: DemandSink;

  constructor(options: PipeMachineryOptions, links: LinkTable, demand: DemandSink) {
    this.#options = options;
    this.#links = links;
    this.#demand = demand;
  }

  serve(): void {
    const { bus } = this.#options;
    bus.serveRpc('pipe.openLink', ({ room, region, endpoint }, fromNode) =>
      this.#links.accept(room, fromNode, region, endpoint),
    );
    bus.serveRpc('pipe.consume', async ({ room, producerId, origin }, fromNode) => {
      const link = this.#links.get(room, fromNode);
      if (!link) throw new KaskadeError('INVALID_STATE', `no link for ${room} with ${fromNode}`);
      const local = await this.#options.host.producerFor(room, producerId, origin);
      if (!local) throw new KaskadeError('NOT_FOUND', `no producer ${producerId} in ${room} here`);
      if (link.closed) throw new KaskadeError('UNAVAILABLE', 'pipe link closed while sending');
      const send = link.sendOf(producerId) ?? (await this.#send(link, local.producer, producerId));
      return {
        producerId,
        kind: send.kind,
        rtpParameters: send.rtpParameters,
        paused: local.producer.paused,
        source: local.source,
        participantId: local.participantId,
      };
    });
    bus.serveRpc('pipe.release', async ({ room, producerId }, fromNode) => {
      this.#links.get(room, fromNode)?.sendOf(producerId)?.close();
      return {};
    });
    bus.serveRpc('pipe.demand', async ({ room, producerId, wanted, spatialLayers }, fromNode) => {
      const demand: StreamDemand = spatialLayers && wanted ? { wanted, spatialLayers } : { wanted };
      const sent = await this.#links.get(room, fromNode)?.setDemand(producerId, demand);
      if (!sent) throw new KaskadeError('NOT_FOUND', `${producerId} is not sent to ${fromNode}`);
      this.#demandChanged(room, producerId);
      return {};
    });
    bus.serveRpc('pipe.closeLink', async ({ room, linkId }, fromNode) => {
      const link = this.#links.get(room, fromNode);
      // A close that crossed a newer link on the way (the remote reopened since) is not for it.
      if (link && (linkId === undefined || link.connectedTo(linkId))) link.close();
      return {};
    });
  }

  /** What the downstream links want of the stream together: what any of them wants. */
  demand(room: string, streamId: string): StreamDemand {
    return unionDemand(
      this.#links.all().flatMap((l) => (l.room === room ? [l.demandOf(streamId) ?? NOTHING] : [])),
    );
  }

  /** Whether any link still carries the stream downstream. */
  sending(room: string, streamId: string): boolean {
    return this.#links.all().some((l) => l.room === room && l.sendOf(streamId) !== undefined);
  }

  async #send(
    link: PipeLink,
    producer: types.Producer,
    streamId: string,
  ): Promise<types.Consumer<SendAppData>> {
    const { room, remoteNode } = link;
    const send = await link.send(producer, { room, remoteNode, streamId });
    const tell = (event: PipeEvent['event']) =>
      this.#options.bus.publish(Subjects.nodePipeEvents(remoteNode, this.#options.nodeId), PipeEvent, {
        room,
        producerId: streamId,
        event,
      });
    send.on('producerpause', () => tell('pause'));
    send.on('producerresume', () => tell('resume'));
    send.on('producerclose', () => tell('close'));
    send.observer.once('close', () => this.#demandChanged(room, streamId));
    // A new taker may want what every other taker had paused.
    this.#demandChanged(room, streamId);
    return send;
  }

  /**
   * Relay nodes pass demand up the tree: the relay wants of a stream every layer any
   * node below wants, and lets its copy go (after the linger) once none takes it.
   */
  #demandChanged(room: string, streamId: string): void {
    if (!this.#options.forwardDemand) return;
    if (!this.sending(room, streamId)) this.#demand.release(room, streamId);
    else this.#demand.setDemand(room, streamId, this.demand(room, streamId)).catch(() => undefined);
  }
}
