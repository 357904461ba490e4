import { DEFAULT_OPTIONS, type MeshOptions } from './options.ts';

/** What the model is asked about: one conference and the nodes it runs on. */
export interface Conference {
  kind: 'lecture' | 'meeting';
  /**
   * Participants per region (a lecture: its viewers; a meeting: everyone). The first
   * region is the origin's: where the presenters are, in a lecture.
   */
  regions: Record<string, number>;
  /** Cameras published: a lecture's presenters, a meeting's participants with the camera on. */
  cameras: number;
  /** Microphones published (a meeting: everyone joins with one, muted or not). */
  microphones: number;
  /** Microphones unmuted (sending) at once. */
  unmuted: number;
  /** Participants speaking at once (above the level threshold): their edges send speaker summaries. */
  speaking: number;
  /**
   * The simulcast spatial layer a viewer takes of each camera (lecture), or of the stage
   * tile (meeting; its other last-N tiles are thumbnails, layer 0).
   */
  viewerLayer: number;
  /** Meeting: the cameras each participant receives video of (its last-N). */
  lastN: number;
  /** Cores per media node (edge or relay): one mediasoup worker each. */
  nodeCores: number;
  /** Bits/s in or out one node is sized for (KASKADE_MAX_BITRATE_BPS's meaning). */
  nodeBandwidthBps: number;
  /** Memory of one media node. */
  nodeMemoryBytes: number;
  /** 0..1: the share of a node's CPU, bandwidth and budgets to plan for (headroom above it). */
  targetLoad: number;
  /** How long the whole audience takes to join (joins per second = participants / this). */
  joinSeconds: number;
  controlPlaneReplicas: number;
  /** Cores per control-plane replica. */
  controlPlaneCores: number;
  options: MeshOptions;
}

export type ConferenceInput = Partial<Omit<Conference, 'options'>> & {
  kind: Conference['kind'];
  regions: Record<string, number>;
  options?: Partial<MeshOptions>;
};

/** Fills in what the input leaves out: one presenter for a lecture; a meeting where a fifth show their camera. */
export function conference(input: ConferenceInput): Conference {
  const participants = Object.values(input.regions).reduce((a, b) => a + b, 0);
  const lecture = input.kind === 'lecture';
  const defaults: Omit<Conference, 'kind' | 'regions' | 'options'> = {
    cameras: lecture ? 1 : Math.ceil(participants / 5),
    microphones: lecture ? 1 : participants,
    unmuted: lecture ? 1 : 3,
    speaking: 1,
    viewerLayer: 2,
    lastN: 9,
    nodeCores: 8,
    nodeBandwidthBps: 10_000_000_000,
    nodeMemoryBytes: 32 * 2 ** 30,
    targetLoad: 0.7,
    joinSeconds: lecture ? 300 : 120,
    controlPlaneReplicas: 2,
    controlPlaneCores: 2,
  };
  const { options, ...rest } = input;
  return { ...defaults, ...rest, options: { ...DEFAULT_OPTIONS, ...options } };
}

export function participantsOf(c: Conference): number {
  return Object.values(c.regions).reduce((a, b) => a + b, 0);
}

/** One kind of video or audio stream a participant receives, and how many of it. */
export interface Reception {
  what: 'video' | 'audio';
  /** Spatial layer (video). */
  layer: number;
  count: number;
}

/**
 * What one participant receives, as the edge forwards it: a lecture's viewer every
 * camera at its layer and every microphone; a meeting's participant its last-N cameras
 * (the stage at viewerLayer, the rest thumbnails at layer 0; the others paused at the
 * edge) and the unmuted microphones.
 */
export function receptionOf(c: Conference): Reception[] {
  if (c.kind === 'lecture')
    return [
      { what: 'video', layer: c.viewerLayer, count: c.cameras },
      { what: 'audio', layer: 0, count: c.unmuted },
    ];
  const shown = Math.min(c.lastN, c.options.lastNMax, Math.max(0, c.cameras - 1));
  return [
    { what: 'video', layer: c.viewerLayer, count: Math.min(1, shown) },
    { what: 'video', layer: 0, count: Math.max(0, shown - 1) },
    { what: 'audio', layer: 0, count: Math.max(0, c.unmuted - 1) },
  ];
}

/**
 * Consumers one participant holds: the SDK subscribes to every stream it is told of
 * (autoSubscribe), paused ones included; a lecture's viewer is told of the stage only.
 */
export function consumersPerParticipant(c: Conference): number {
  return c.kind === 'lecture' ? c.cameras + c.microphones : Math.max(0, c.cameras - 1) + c.microphones - 1;
}

/** Streams each joining participant publishes on average (a meeting's microphones and cameras; a lecture's stage joins apart). */
export function streamsPerJoin(c: Conference): number {
  return c.kind === 'lecture' ? 0 : (c.microphones + c.cameras) / Math.max(1, participantsOf(c));
}

/**
 * Entries of the room in the directory, which every resync reads whole: every participant
 * and every stream. The audience of a lecture is there too: Room.join tells RoomSync of
 * every participant, which writes Directory.addParticipant and publishes participantJoined
 * to the room's other edges (roomEvents.ts); lecture mode (Stage.announced) only decides
 * whom an edge notifies one by one over signaling, the rest getting a head count.
 */
export function directoryEntriesOf(c: Conference): number {
  return participantsOf(c) + c.microphones + c.cameras;
}
