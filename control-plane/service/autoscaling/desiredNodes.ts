import { stabilize } from './hysteresis.ts';
import { type RegionLoad, regionLoads } from './nodeDemand.ts';
import { type Reserved, reservedNodes } from './prewarm.ts';
import { keepWindow, projectedDemand } from './trend.ts';
import {
  type AutoscaleSettings,
  type Decision,
  type PolicyInput,
  type PolicyState,
  round,
  type SeriesState,
  seriesKey,
} from './types.ts';

/**
 * The desired node count of every region and kind, with its reasons, and the state the
 * next decision needs. Pure: the same input and state give the same answer on every
 * control-plane replica. Per region and kind, in order:
 *   1. load: the region's demand (summed load ratios), projected ahead by its trend over
 *      the time a node takes to start, over the target load, plus the headroom nodes;
 *   2. reservations: at least what the pre-warm reservations active now want (prewarm.ts),
 *      and relays at least where rooms cross regions;
 *   3. bounds: the region's min and max for the kind;
 *   4. hysteresis (hysteresis.ts): rise at once, fall slowly;
 *   5. floor: never fewer than the serving nodes that carry rooms now (a node with
 *      participants or a room's streams, a lecture's origin among them, is not counted
 *      away: it leaves by draining, when its rooms end or migrate).
 * Regions are those any node or reservation names, and those decided on before.
 */
export function decideDesiredNodes(
  input: PolicyInput,
  previous: PolicyState,
  settings: AutoscaleSettings,
): { decisions: Decision[]; state: PolicyState } {
  const { now, nodes, reservations } = input;
  const regions = new Set<string>(nodes.map((n) => n.region));
  for (const r of reservations) for (const region of Object.keys(r.regions ?? {})) regions.add(region);
  for (const key of previous.series.keys()) regions.add(key.slice(0, key.lastIndexOf('/')));
  const reserved = reservedNodes(reservations, nodes, previous.fulfilled, settings, now);
  const state: PolicyState = {
    series: new Map(),
    fulfilled: fulfilledStill(previous.fulfilled, reservations),
  };
  const decisions: Decision[] = [];
  for (const load of regionLoads(nodes, [...regions].sort())) {
    const key = seriesKey(load.region, load.kind);
    const { decision, series, met } = decideOne(
      load,
      previous.series.get(key),
      reserved.get(key),
      settings,
      now,
    );
    decisions.push(decision);
    state.series.set(key, series);
    for (const key of met) state.fulfilled.add(key);
  }
  return { decisions, state };
}

function decideOne(
  load: RegionLoad,
  previous: SeriesState | undefined,
  reserved: Reserved[] | undefined,
  settings: AutoscaleSettings,
  now: number,
): { decision: Decision; series: SeriesState; met: string[] } {
  const reasons = [...load.reasons];
  const demand = keepWindow(previous?.demand ?? [], { at: now, demand: load.demand }, settings.nodeStartupMs);
  const projected = projectedDemand(demand, now, settings.nodeStartupMs);
  if (projected.demand > load.demand)
    reasons.push(
      `trend +${round(projected.slopePerSecond, 4)}/s: ${round(projected.demand)} in ${settings.nodeStartupMs / 1000} s`,
    );
  // A hair under a whole node is that node: 1.2 / 0.6 is 2.0000000000000004 in floating point.
  const forLoad = Math.max(0, Math.ceil(projected.demand / settings.targetLoad - 1e-9));
  const headroom = forLoad > 0 || load.kind === 'edge' ? settings.headroomNodes : 0;
  let wanted = forLoad + headroom;
  reasons.push(
    `${forLoad} at target load ${settings.targetLoad}${headroom ? ` + ${headroom} headroom` : ''}`,
  );
  if (load.roomsNeed > wanted) wanted = load.roomsNeed;
  // Once the load asks for what the started reservations reserved, their audience came:
  // they hold no more, and capacity follows the load when people leave.
  const started = (reserved ?? []).filter((r) => r.startsAt <= now);
  const met = started.length > 0 && forLoad >= sum(started) ? started.map((r) => r.key) : [];
  const holding = (reserved ?? []).filter((r) => !met.includes(r.key));
  if (holding.length > 0) {
    reasons.push(...holding.map((r) => r.reason));
    wanted = Math.max(wanted, sum(holding));
  }
  if (met.length > 0) reasons.push(`reservations met by the load, released: ${met.join(', ')}`);
  const { min, max } = settings.limits(load.region, load.kind);
  const bounded = Math.min(max, Math.max(min, wanted));
  if (bounded !== wanted) reasons.push(wanted > max ? `max ${max} (wanted ${wanted})` : `min ${min}`);
  const stable = stabilize(previous, bounded, now, settings);
  if (stable.reason) reasons.push(stable.reason);
  let desired = stable.desired;
  if (load.carrying > desired) {
    reasons.push(`floor: ${load.carrying} serving ${load.kind}s carry rooms`);
    desired = load.carrying;
  }
  return {
    decision: { region: load.region, kind: load.kind, nodes: load.serving, desired, wanted, reasons },
    series: { since: previous?.since ?? now, demand, wanted: stable.history, desired: stable.desired },
    met,
  };
}

const sum = (reserved: Reserved[]) => reserved.reduce((n, r) => n + r.nodes, 0);

/** The fulfilled marks of reservations that still exist (a deleted or expired one is forgotten). */
function fulfilledStill(
  fulfilled: ReadonlySet<string>,
  reservations: PolicyInput['reservations'],
): Set<string> {
  const ids = new Set(reservations.map((r) => r.id));
  return new Set([...fulfilled].filter((key) => ids.has(key.slice(0, key.indexOf('/')))));
}
