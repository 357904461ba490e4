// @kaskade/media-node: what every node that carries media (edge and relay) is built
// from: mediasoup workers and their census, the mesh's codecs, media metrics, the
// pipe machinery that links routers across nodes, and the heartbeat each announces itself by.
export { mediaCodecs } from './codecs.ts';
export type { HeartbeatOptions, NodeHoldings } from './Heartbeat.ts';
export { Heartbeat } from './Heartbeat.ts';
export { MediaMetrics } from './MediaMetrics.ts';
export type { CopyAppData, LinkCensus, LocalProducer, PipeHost, PipeMachineryOptions } from './pipe/index.ts';
export {
  ALL_LAYERS,
  demandGrows,
  layersDemand,
  NOTHING,
  PipeMachinery,
  SilenceDetector,
  sameDemand,
  unionDemand,
} from './pipe/index.ts';
export { WorkerCensus } from './WorkerCensus.ts';
export { withoutSignalHandlers } from './workers.ts';
