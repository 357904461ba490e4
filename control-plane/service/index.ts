// @kaskade/control-plane: the control-plane service (public join, placement, node
// registry, migrations). Started by main.ts.

export { ControlPlaneConfigSchema, loadControlPlaneConfig, trustedEdgeUrls } from './config.ts';
export type { LivenessView, PlacementInput } from './placement.ts';
export { place } from './placement.ts';
