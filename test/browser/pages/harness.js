// Drives the SDK from tests: window.harness is called through page.evaluate.
import { Room } from '/sdk/kaskade.js';

const events = [];
let room;
let stream;

window.harness = {
  async join(url, token, { publish = true } = {}) {
    if (publish)
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    room = await Room.connect({ url, token });
    for (const name of [
      'reconnecting',
      'reconnected',
      'disconnected',
      'trackAdded',
      'trackRemoved',
      'participantJoined',
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
      let bytes = 0;
      let frames = 0;
      report.forEach((s) => {
        if (s.type === 'inbound-rtp') {
          bytes += s.bytesReceived ?? 0;
          frames += s.framesDecoded ?? 0;
        }
      });
      out.push({
        id: track.id,
        from: track.participant.id,
        kind: track.kind,
        source: track.source,
        bytes,
        frames,
      });
    }
    return out;
  },
  events: () => events.slice(),
  state: () => room?.state,
  dropSignaling: () => room.simulateSignalingDrop(),
  async leave() {
    await room.leave();
    for (const t of stream?.getTracks() ?? []) t.stop();
  },
};
window.harnessReady = true;
