// @kaskade/capacity: the capacity model (what a conference needs of the mesh and what
// breaks first), the figures it multiplies out, and the benchmark that measures the
// control-plane figures (control-bench.ts). The CLI is loadtest/capacity-model.ts.
export type { Conference, ConferenceInput, Reception } from './conference.ts';
export {
  conference,
  consumersPerParticipant,
  directoryEntriesOf,
  participantsOf,
  receptionOf,
  streamsPerJoin,
} from './conference.ts';
export type { ControlResult } from './control.ts';
export { controlModel } from './control.ts';
export type { Figure, Figures } from './figures.ts';
export { FIGURES, figureValues, MEASURED_ON } from './figures.ts';
export type { Limit } from './limits.ts';
export { limitsOf } from './limits.ts';
export type { EdgeSizing, MediaResult, StreamKind } from './media.ts';
export { edgeSizing, mediaModel, streamKinds } from './media.ts';
export type { CapacityResult } from './model.ts';
export { capacityModel, scaledTo } from './model.ts';
export type { MeshOptions } from './options.ts';
export { DEFAULT_OPTIONS, MAX_TREE_DEPTH, OPTION_ENV } from './options.ts';
export { docsBlocks, readmeBlocks, SIZING_DOCS, withBlocks } from './readme-blocks.ts';
export { bits, figuresTable, limitsTable, markdownReport, num, resultRows, resultTable } from './report.ts';
export type { ScenarioName } from './scenarios.ts';
export { SCENARIOS, TYPICAL_LECTURES } from './scenarios.ts';
export type { RegionBranch, StreamTree } from './tree.ts';
export { levelsNeeded, streamTree } from './tree.ts';
