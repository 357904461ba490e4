/**
 * The cross-host pipe path of a media node (edges and relays), in one place: links,
 * copies and sends are created and closed only by PipeMachinery. Everything outside
 * this folder imports from here.
 */

export { ALL_LAYERS, demandGrows, layersDemand, NOTHING, sameDemand, unionDemand } from './demand.ts';
export { isLoopback } from './LinkShaping.ts';
export { pipeRemoteRegion } from './PipeLink.ts';
export { PipeMachinery } from './PipeMachinery.ts';
export { SilenceDetector } from './SilenceDetector.ts';
export type {
  CopyAppData,
  CopyInfo,
  LinkAppData,
  LinkCensus,
  LinkInfo,
  LocalProducer,
  PipeEvents,
  PipeHost,
  PipeMachineryOptions,
  SendAppData,
  SendCensus,
  SendInfo,
} from './types.ts';
