import type { ControlPlaneConfig } from '../config.ts';
import type { AutoscaleSettings } from './types.ts';

/** The policy's settings from the KASKADE_AUTOSCALE_* options. */
export function autoscaleSettings(config: ControlPlaneConfig): AutoscaleSettings {
  const limits = {
    edge: { min: config.autoscaleEdgeMin, max: config.autoscaleEdgeMax },
    relay: { min: config.autoscaleRelayMin, max: config.autoscaleRelayMax },
  };
  return {
    targetLoad: config.autoscaleTargetLoad,
    headroomNodes: config.autoscaleHeadroomNodes,
    stabilizationMs: config.autoscaleStabilizationMs,
    scaleDownStep: config.autoscaleScaleDownStep,
    leadMs: config.autoscaleLeadMs,
    nodeStartupMs: config.autoscaleNodeStartupMs,
    participantsPerEdge: config.autoscaleParticipantsPerEdge,
    limits: (_region, kind) => limits[kind],
  };
}
