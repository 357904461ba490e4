// The demo page: plain JavaScript on the SDK bundle, as an application would use it.
import { Room } from '/sdk/kaskade.js';

const $ = (id) => document.getElementById(id);
const tiles = new Map(); // participant id -> tile element
let room;
let localStream;

$('name').value = localStorage.getItem('kaskade.name') ?? '';
$('room').value = new URLSearchParams(location.search).get('room') ?? 'demo';
fetch('/demo/config')
  .then((r) => r.json())
  .then(({ regions }) => {
    if (regions.length === 0) return;
    const wanted = new URLSearchParams(location.search).get('region');
    for (const region of regions) $('region').append(new Option(region, region, false, region === wanted));
    $('region-field').hidden = false;
  });

$('join-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('name').value.trim();
  const roomName = $('room').value.trim();
  const viewerOnly = $('audience').checked;
  localStorage.setItem('kaskade.name', name);
  $('join').disabled = true;
  $('join-error').textContent = '';
  try {
    if (!viewerOnly) {
      localStream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: 1280, height: 720 },
      });
    }
    // Each (re)connect asks the app backend for a ticket: an edge and a token for it. After a
    // crash the SDK names the edges it could not reach; the backend passes them on as `avoid`.
    let identity; // the first answer's: asking again as the same person keeps the participant id
    const ticket = async ({ avoid }) => {
      const response = await fetch('/demo/join', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          room: roomName,
          name,
          region: $('region').value || undefined,
          subscribeOnly: viewerOnly,
          avoid,
          identity,
        }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.message ?? `join failed (${response.status})`);
      identity = body.identity;
      if (body.nodeId) $('room-label').dataset.edge = `${body.nodeId} (${body.region})`;
      return { url: body.url, token: body.token, node: body.nodeId };
    };
    room = await Room.connect({ token: ticket });
    window.kaskadeRoom = room; // for poking at from the console
    wireRoom(room);
    showStage(roomName);
    addTile(room.self, { self: true });
    if (localStream) {
      const [audio] = localStream.getAudioTracks();
      const [video] = localStream.getVideoTracks();
      if (video) {
        setTileTrack(room.self.id, video);
        await room.publish(video, { source: 'camera' });
      }
      if (audio) await room.publish(audio, { source: 'microphone' });
    }
    for (const participant of room.participants.values()) addTile(participant);
    for (const track of room.tracks.values()) onTrack(track);
    tiles.get(room.activeSpeakerId)?.classList.add('speaking');
  } catch (error) {
    console.error(error);
    $('join-error').textContent = error.message ?? String(error);
    for (const t of localStream?.getTracks() ?? []) t.stop();
  } finally {
    $('join').disabled = false;
  }
});

function wireRoom(r) {
  r.on('participantJoined', (p) => addTile(p));
  r.on('participantLeft', (p) => removeTile(p.id));
  r.on('trackAdded', onTrack);
  r.on('trackRemoved', (t) => {
    if (t.kind === 'video') setTileTrack(t.participant.id, null);
  });
  r.on('trackPaused', (t) => setBadge(t.participant.id, t.kind, true));
  r.on('trackResumed', (t) => setBadge(t.participant.id, t.kind, false));
  r.on('activeSpeaker', (p, isSelf) => {
    const id = isSelf ? r.self.id : p?.id;
    for (const [pid, tile] of tiles) tile.classList.toggle('speaking', pid === id);
  });
  r.on('connectionStateChanged', (state) => {
    const status = $('status');
    status.hidden = state === 'connected';
    status.textContent = state === 'reconnecting' ? 'Reconnecting…' : state;
  });
  r.on('disconnected', (reason) => {
    for (const t of localStream?.getTracks() ?? []) t.stop();
    showJoinForm(reason === 'left' ? '' : `Disconnected: ${reason}`);
  });
}

function onTrack(track) {
  addTile(track.participant);
  if (track.kind === 'video') {
    setTileTrack(track.participant.id, track.track);
    // Small tiles do not need the top layer; the edge sends the one asked for.
    if (track.source === 'camera')
      room.setPreferredQuality(track.id, tiles.size > 4 ? 'medium' : 'high').catch(() => {});
  } else {
    let audio = tiles.get(track.participant.id)?.querySelector('audio');
    if (!audio) {
      audio = document.createElement('audio');
      audio.autoplay = true;
      tiles.get(track.participant.id)?.append(audio);
    }
    audio.srcObject = new MediaStream([track.track]);
  }
  setBadge(track.participant.id, track.kind, track.paused);
}

function addTile(participant, { self = false } = {}) {
  if (tiles.has(participant.id)) return;
  const tile = $('tile-template').content.firstElementChild.cloneNode(true);
  tile.dataset.participant = participant.id;
  tile.classList.toggle('self', self);
  tile.classList.add('no-video');
  tile.querySelector('.name').textContent = self ? `${participant.name} (you)` : participant.name;
  tile.querySelector('.avatar').textContent = initials(participant.name);
  tiles.set(participant.id, tile);
  $('grid').append(tile);
}

function removeTile(id) {
  tiles.get(id)?.remove();
  tiles.delete(id);
}

function setTileTrack(id, track) {
  const tile = tiles.get(id);
  if (!tile) return;
  const video = tile.querySelector('video');
  video.srcObject = track ? new MediaStream([track]) : null;
  tile.classList.toggle('no-video', !track);
}

function setBadge(id, kind, paused) {
  const tile = tiles.get(id);
  if (!tile) return;
  tile.dataset[`${kind}Paused`] = paused ? '1' : '';
  const badges = [];
  if (tile.dataset.audioPaused) badges.push('mic off');
  if (tile.dataset.videoPaused) badges.push('video off');
  tile.querySelector('.badges').textContent = badges.join(' · ');
  if (kind === 'video') tile.classList.toggle('no-video', paused);
}

function initials(name) {
  return name
    .split(/\s+/)
    .map((w) => w[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

function showStage(roomName) {
  $('join-form').hidden = true;
  $('stage').hidden = false;
  const edge = $('room-label').dataset.edge;
  $('room-label').textContent = edge ? `room ${roomName} · edge ${edge}` : `room ${roomName}`;
  const mic = $('toggle-mic');
  const cam = $('toggle-cam');
  const audio = localStream?.getAudioTracks().length;
  const video = localStream?.getVideoTracks().length;
  mic.hidden = !audio;
  cam.hidden = !video;
  mic.onclick = async () => {
    const muted = !mic.classList.contains('off');
    await room.setPublicationPaused('microphone', muted);
    mic.classList.toggle('off', muted);
    mic.textContent = muted ? 'Unmute' : 'Mute';
  };
  cam.onclick = async () => {
    const stopped = !cam.classList.contains('off');
    await room.setPublicationPaused('camera', stopped);
    cam.classList.toggle('off', stopped);
    cam.textContent = stopped ? 'Start video' : 'Stop video';
    tiles.get(room.self.id)?.classList.toggle('no-video', stopped);
  };
  $('leave').onclick = () => room.leave();
}

function showJoinForm(message) {
  for (const id of [...tiles.keys()]) removeTile(id);
  $('stage').hidden = true;
  $('join-form').hidden = false;
  $('room-label').textContent = '';
  $('status').hidden = true;
  $('join-error').textContent = message;
}
