// Drives the SDK from tests: window.harness is called through page.evaluate.
import { Room } from '/sdk/kaskade.js';

const events = [];
const speakers = [];
/** What the SDK asked the ticket provider each time (the edges to avoid). */
const tickets = [];
let room;
let stream;
/** The tone microphone's context and gain (join with `tone`). */
const toneSource = { context: undefined, volume: undefined };
/** A tone loud enough to count as speech (about -20 dBov), far above the edge's threshold. */
const TONE_GAIN = 0.2;

/** A microphone track that carries a 440 Hz tone while `speak(true)`, silence otherwise. */
async function toneMicrophone() {
  toneSource.context = new AudioContext();
  await toneSource.context.resume();
  const oscillator = toneSource.context.createOscillator();
  oscillator.frequency.value = 440;
  toneSource.volume = toneSource.context.createGain();
  toneSource.volume.gain.value = 0;
  const destination = toneSource.context.createMediaStreamDestination();
  oscillator.connect(toneSource.volume).connect(destination);
  oscillator.start();
  return destination.stream.getAudioTracks()[0];
}

window.harness = {
  /** Joins through the demo server's /demo/join (an app backend asking the control plane); `options` as join's. */
  async joinVia(roomName, name, region, options = {}) {
    // The SDK names the edges it could not reach; they go to the control plane's join as `avoid`.
    // Asking again (a reconnect) under the identity of the first answer: the same person.
    let identity;
    const ticket = async ({ avoid }) => {
      tickets.push({ avoid });
      const response = await fetch('/demo/join', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          room: roomName,
          name,
          region,
          avoid,
          identity,
          subscribeOnly: options.publish === false,
        }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.message ?? `join failed (${response.status})`);
      identity = body.identity;
      window.harnessNode = body.nodeId;
      return { url: body.url, token: body.token, node: body.nodeId };
    };
    return window.harness.join(undefined, ticket, options);
  },
  node: () => window.harnessNode,
  /**
   * Joins and publishes camera and microphone (unless `publish` is false). `video`: the
   * camera's constraints; `tone`: the microphone is a Web Audio tone, silent until `speak`.
   */
  async join(
    url,
    token,
    { publish = true, forceTcp = false, video = { width: 640, height: 360 }, tone = false } = {},
  ) {
    if (publish) {
      stream = await navigator.mediaDevices.getUserMedia({ audio: !tone, video });
      if (tone) stream.addTrack(await toneMicrophone());
    }
    room = await Room.connect({ url, token, forceTcp });
    speakers.push(room.activeSpeakerId); // as of the join; changes arrive as events
    room.on('activeSpeaker', (p, isSelf) => speakers.push(isSelf ? room.self.id : (p?.id ?? null)));
    for (const name of [
      'reconnecting',
      'reconnected',
      'disconnected',
      'trackAdded',
      'trackRemoved',
      'participantJoined',
      'participantLeft',
      'trackReplaced',
      'migrated',
      'roleChanged',
    ]) {
      room.on(name, () => events.push(name));
    }
    if (stream) {
      await room.publish(stream.getVideoTracks()[0], { source: 'camera' });
      await room.publish(stream.getAudioTracks()[0], { source: 'microphone' });
    }
    return room.self.id;
  },
  /** Inbound totals per remote track: bytes for both kinds, decoded frames for video. */
  async inbound() {
    const out = [];
    for (const track of room.tracks.values()) {
      const report = await room.getTrackStats(track.id);
      const stats = [...report.values()];
      const byId = new Map(stats.map((s) => [s.id, s]));
      const inbound = stats.filter((s) => s.type === 'inbound-rtp');
      const transport = stats.find((s) => s.type === 'transport');
      const pair = byId.get(transport?.selectedCandidatePairId);
      out.push({
        id: track.id,
        from: track.participant.id,
        kind: track.kind,
        source: track.source,
        bytes: inbound.reduce((n, s) => n + (s.bytesReceived ?? 0), 0),
        frames: inbound.reduce((n, s) => n + (s.framesDecoded ?? 0), 0),
        frameWidth: inbound[0]?.frameWidth ?? 0,
        protocol: byId.get(pair?.localCandidateId)?.protocol,
      });
    }
    return out;
  },
  events: () => events.slice(),
  tickets: () => tickets.slice(),
  selfId: () => room.self.id,
  /** Track objects by id, to check the application's objects survive a migration. */
  keepTracks() {
    window.keptTracks = new Map([...room.tracks].map(([id, t]) => [id, t]));
    return [...window.keptTracks.keys()];
  },
  sameTracks: () =>
    [...room.tracks].every(
      ([id, t]) => window.keptTracks?.get(id) === t && t.stream.getTracks().includes(t.track),
    ),
  /** Decoded frames of each remote video now (the current consumer's: a switch starts again from 0). */
  async videoFrames() {
    const out = [];
    for (const track of room.tracks.values()) {
      if (track.kind !== 'video') continue;
      try {
        const report = await room.getTrackStats(track.id);
        let frames = 0;
        for (const s of report.values()) if (s.type === 'inbound-rtp') frames += s.framesDecoded ?? 0;
        out.push({ id: track.id, frames });
      } catch {
        // switching right now: no sample
      }
    }
    return out;
  },

  raiseHand: () => room.raiseHand(),
  role: () => room.role,
  /** Publish camera and microphone now (after a promotion: no rejoin). */
  async publishMedia() {
    stream ??= await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    await room.publish(stream.getVideoTracks()[0], { source: 'camera' });
    await room.publish(stream.getAudioTracks()[0], { source: 'microphone' });
    return room.publications.map((p) => p.id);
  },
  speakers: () => speakers.slice(),
  /** The tone microphone (join with `tone`) speaks or falls silent. */
  speak(on) {
    toneSource.volume.gain.value = on ? TONE_GAIN : 0;
  },
  setQuality: (trackId, quality) => room.setPreferredQuality(trackId, quality),
  state: () => room?.state,
  dropSignaling: () => room.simulateSignalingDrop(),
  async leave() {
    await room.leave();
    for (const t of stream?.getTracks() ?? []) t.stop();
    await toneSource.context?.close();
  },
};
window.harnessReady = true;
