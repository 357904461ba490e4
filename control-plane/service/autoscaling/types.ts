import type { CapacityDecision, CapacityReservation, MediaNodeKind, NodeReport } from '@kaskade/protocol';

export interface NodeLimits {
  min: number;
  max: number;
}

/** How desired counts are made (KASKADE_AUTOSCALE_* options, docs in deploy/README.md "## Autoscaling"). */
export interface AutoscaleSettings {
  /** The load ratio (0..1) a region's nodes should run at on average: below 1 leaves room for a join storm. */
  targetLoad: number;
  /** Spare nodes kept on top of what the load and reservations need. */
  headroomNodes: number;
  /** A lower count must have been wanted this long before the desired count falls. */
  stabilizationMs: number;
  /** The desired count falls by at most this many nodes per decision. */
  scaleDownStep: number;
  /** How long before a reservation's start its capacity is wanted. */
  leadMs: number;
  /** How long a new node takes to become ready: the trend is measured over it and projected ahead by it. */
  nodeStartupMs: number;
  /** Participants per edge for pre-warm sizing when no edge reports its capacity. */
  participantsPerEdge: number;
  /** Bounds per region and kind. */
  limits: (region: string, kind: MediaNodeKind) => NodeLimits;
}

/** What one decision looks at. */
export interface PolicyInput {
  now: number;
  /** Every node as last heard (serving and draining). */
  nodes: readonly NodeReport[];
  reservations: readonly CapacityReservation[];
}

export interface DemandSample {
  at: number;
  /** The region's summed load ratio: nodes' worth of work. */
  demand: number;
}

/** What the policy remembers for one region and kind between decisions. */
export interface SeriesState {
  /** When this region and kind were first decided on: the windows before it were not watched. */
  since: number;
  /** Demand over the trend window. */
  demand: DemandSample[];
  /** The counts wanted (before hysteresis) over the stabilization window that may still be its highest. */
  wanted: { at: number; count: number }[];
  /** The last desired count before the floor of live rooms, if any. */
  desired?: number;
}

export interface PolicyState {
  series: Map<string, SeriesState>;
  /** Reservations (id/region/kind) whose audience came: real load carries on, they hold no more. */
  fulfilled: Set<string>;
}

export const emptyPolicyState = (): PolicyState => ({ series: new Map(), fulfilled: new Set() });

/** One region's and kind's decision, and what the load and reservations asked for before min/max and hysteresis. */
export type Decision = CapacityDecision & { wanted: number };

export const seriesKey = (region: string, kind: MediaNodeKind) => `${region}/${kind}`;

/** `value` with at most `digits` decimals, for reasons. */
export const round = (value: number, digits = 2) => String(Number(value.toFixed(digits)));
