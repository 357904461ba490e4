import type { types } from 'mediasoup';

/**
 * What one mediasoup worker carries, counted through mediasoup's observers: every path
 * that creates or closes a router, transport, producer or consumer is seen without
 * the callers having to report it. Producers and consumers are kept (not only
 * counted) so the stats sampler can visit them.
 */
export class WorkerCensus {
  readonly worker: types.Worker;
  readonly routers = new Set<types.Router>();
  readonly transports = new Set<types.Transport>();
  readonly producers = new Map<types.Producer, types.Transport>();
  readonly consumers = new Map<types.Consumer, types.Transport>();

  constructor(worker: types.Worker) {
    this.worker = worker;
    worker.observer.on('newrouter', (router) => {
      this.routers.add(router);
      router.observer.once('close', () => this.routers.delete(router));
      router.observer.on('newtransport', (transport) => this.#watch(transport));
    });
  }

  #watch(transport: types.Transport): void {
    this.transports.add(transport);
    transport.observer.once('close', () => this.transports.delete(transport));
    transport.observer.on('newproducer', (producer) => {
      this.producers.set(producer, transport);
      producer.observer.once('close', () => this.producers.delete(producer));
    });
    transport.observer.on('newconsumer', (consumer) => {
      this.consumers.set(consumer, transport);
      consumer.observer.once('close', () => this.consumers.delete(consumer));
    });
  }
}
