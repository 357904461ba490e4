// Drives the SDK from tests: window.harness is called through page.evaluate.
import { Room } from '/sdk/kaskade.js';

const events = [];
const speakers = [];
/** What the SDK asked the ticket provider each time (the edges to avoid). */
const tickets = [];
let room;
let stream;
/** News the tests time switches by, stamped with Date.now() (the machine's clock, as the test's). */
const news = { speakerOrder: [], videoOn: [] };
/** Each remote video's decoded frames as sampled, and when they last grew (watchFrames). */
const frameWatch = { timer: undefined, mark: 0, tracks: new Map() };
/** One round of watchFrames: each remote video's decoded frames now, and whether they grew. */
async function sampleFrames() {
  for (const track of room.tracks.values()) {
    if (track.kind !== 'video') continue;
    let frames = 0;
    try {
      for (const s of (await room.getTrackStats(track.id)).values())
        if (s.type === 'inbound-rtp') frames += s.framesDecoded ?? 0;
    } catch {
      continue; // switching right now: no sample
    }
    const seen = frameWatch.tracks.get(track.id);
    const grew = seen !== undefined && frames > seen.frames;
    const now = Date.now();
    frameWatch.tracks.set(track.id, {
      from: track.participant.id,
      frames,
      lastGrewAt: grew ? now : (seen?.lastGrewAt ?? 0),
      firstGrewAfterMark: seen?.firstGrewAfterMark ?? (grew ? now : undefined),
    });
  }
}

/** The tone microphone's track (join with `tone`). */
let toneTrack;

/**
 * A microphone that carries a 440 Hz tone (about -20 dBov, far above the edge's speech
 * threshold) while enabled, and silence while disabled: an <audio> element playing a tone
 * made here, captured. Not Web Audio: headless Firefox without an audio device never runs
 * an AudioContext (it stays suspended), while both browsers play and capture an element.
 */
async function toneMicrophone() {
  const rate = 48000;
  const samples = rate; // one second, looped: a whole number of periods
  const wav = new DataView(new ArrayBuffer(44 + samples * 2));
  const text = (at, s) => {
    for (let i = 0; i < s.length; i++) wav.setUint8(at + i, s.charCodeAt(i));
  };
  text(0, 'RIFF');
  wav.setUint32(4, 36 + samples * 2, true);
  text(8, 'WAVEfmt ');
  wav.setUint32(16, 16, true); // PCM header: format 1, mono, 16 bits
  wav.setUint16(20, 1, true);
  wav.setUint16(22, 1, true);
  wav.setUint32(24, rate, true);
  wav.setUint32(28, rate * 2, true);
  wav.setUint16(32, 2, true);
  wav.setUint16(34, 16, true);
  text(36, 'data');
  wav.setUint32(40, samples * 2, true);
  for (let i = 0; i < samples; i++)
    wav.setInt16(44 + i * 2, Math.round(0.2 * 32767 * Math.sin((2 * Math.PI * 440 * i) / rate)), true);
  const audio = new Audio(URL.createObjectURL(new Blob([wav.buffer], { type: 'audio/wav' })));
  audio.loop = true;
  await audio.play();
  const [track] = (audio.captureStream?.() ?? audio.mozCaptureStream()).getAudioTracks();
  track.enabled = false; // silent until speak(true): the sender sends silence
  return track;
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
   * camera's constraints; `tone`: the microphone is a tone, silent until `speak`.
   */
  async join(
    url,
    token,
    { publish = true, forceTcp = false, video = { width: 640, height: 360 }, tone = false } = {},
  ) {
    if (publish) {
      stream = await navigator.mediaDevices.getUserMedia({ audio: !tone, video });
      if (tone) {
        toneTrack = await toneMicrophone();
        stream.addTrack(toneTrack);
      }
    }
    room = await Room.connect({ url, token, forceTcp });
    speakers.push(room.activeSpeakerId); // as of the join; changes arrive as events
    room.on('activeSpeaker', (p, isSelf) => speakers.push(isSelf ? room.self.id : (p?.id ?? null)));
    room.on('speakerOrder', (ids) => news.speakerOrder.push({ at: Date.now(), ids: [...ids] }));
    room.on('videoForwarding', (state) => {
      const on = [...state].filter(([, f]) => f.on).map(([id]) => room.tracks.get(id)?.participant.id);
      news.videoOn.push({ at: Date.now(), from: on.sort() });
    });
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
  setLastN: (n) => room.setLastN(n),
  speakerOrder: () => [...room.speakerOrder],
  /** Each remote video: its sender and whether the edge forwards it (as the SDK was told). */
  forwarding: () =>
    [...room.tracks.values()]
      .filter((t) => t.kind === 'video')
      .map((t) => ({ from: t.participant.id, on: t.forwarding.on, reason: t.forwarding.reason })),
  news: () => structuredClone(news),
  /** Samples every remote video's decoded frames every `intervalMs` from now on. */
  watchFrames(intervalMs) {
    clearInterval(frameWatch.timer);
    let busy = false; // a slow round is not overlapped by the next
    frameWatch.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      sampleFrames().finally(() => {
        busy = false;
      });
    }, intervalMs);
  },
  /** From now on, note when each remote video's frames first grow again (answers the mark's time). */
  markFrames() {
    frameWatch.mark = Date.now();
    for (const seen of frameWatch.tracks.values()) seen.firstGrewAfterMark = undefined;
    return frameWatch.mark;
  },
  frames: () => [...frameWatch.tracks.values()].map((t) => ({ ...t })),
  /** The tone microphone (join with `tone`) speaks or falls silent; answers when (Date.now()). */
  speak(on) {
    toneTrack.enabled = on;
    return Date.now();
  },
  setQuality: (trackId, quality) => room.setPreferredQuality(trackId, quality),
  state: () => room?.state,
  dropSignaling: () => room.simulateSignalingDrop(),
  async leave() {
    clearInterval(frameWatch.timer);
    await room.leave();
    for (const t of stream?.getTracks() ?? []) t.stop();
  },
};
window.harnessReady = true;
