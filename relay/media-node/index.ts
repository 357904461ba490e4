// @kaskade/media-node: what every node that carries media (edge and relay) is built
// from: mediasoup workers and their census, the mesh's codecs, media metrics and the
// pipe machinery that links routers across nodes.
export { mediaCodecs } from './codecs.ts';
export { MediaMetrics } from './MediaMetrics.ts';
export type { CopyAppData, LinkCensus, LocalProducer, PipeHost, PipeMachineryOptions } from './pipe/index.ts';
export { PipeMachinery, SilenceDetector } from './pipe/index.ts';
export { WorkerCensus } from './WorkerCensus.ts';
export { withoutSignalHandlers } from './workers.ts';
