import type { types } from 'mediasoup';
import type { LinkEndpoint } from '../../control-plane/protocol/nats.ts';

/**
 * One PipeTransport of a (room, this node, remote node) link. Every stream of the
 * room between the two nodes crosses it: `copies` are producers this node received
 * from the remote, `sends` are pipe consumers carrying local producers to it.
 */
export class PipeLink {
  readonly room: string;
  readonly remoteNode: string;
  readonly transport: types.PipeTransport;
  readonly copies = new Map<string, types.Producer>();
  readonly sends = new Map<string, types.Consumer>();
  /** Copies being set up right now: the link is not idle while any is. */
  pending = 0;

  constructor(room: string, remoteNode: string, transport: types.PipeTransport) {
    this.room = room;
    this.remoteNode = remoteNode;
    this.transport = transport;
  }

  /**
   * Region of the remote node, learnt in the openLink exchange ('' until then). Kept in
   * the transport's appData, where the stats sampler reads it too.
   */
  get remoteRegion(): string {
    return (this.transport.appData.remoteRegion as string | undefined) ?? '';
  }

  set remoteRegion(region: string) {
    this.transport.appData.remoteRegion = region;
  }

  get endpoint(): LinkEndpoint {
    const { tuple, srtpParameters } = this.transport;
    if (!srtpParameters) throw new Error('pipe transport without SRTP');
    return { ip: tuple.localAddress ?? tuple.localIp, port: tuple.localPort, srtpParameters };
  }

  get empty(): boolean {
    return this.copies.size === 0 && this.sends.size === 0 && this.pending === 0;
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  /** Closing the transport closes every copy and pipe consumer on it. */
  close(): void {
    this.transport.close();
  }
}
