// The demo page: plain JavaScript on the SDK bundle, as an application would use it.
// This module joins and leaves; meeting.js lays out the room, tile.js draws one participant.
import { Room } from '/sdk/kaskade.js';
import { Meeting } from './meeting.js';

const $ = (id) => document.getElementById(id);
let room;
let meeting;
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
    showMeeting(roomName);
    meeting = new Meeting(room, {
      stage: $('stage'),
      gallery: $('gallery'),
      self: $('self-view'),
      audio: $('audio-sink'),
      pager: $('pager'),
      prev: $('page-prev'),
      next: $('page-next'),
      lastN: $('last-n'),
    });
    window.kaskadeMeeting = meeting;
    if (localStream) {
      const [audio] = localStream.getAudioTracks();
      const [video] = localStream.getVideoTracks();
      if (video) {
        meeting.selfTile.setVideo(video);
        await room.publish(video, { source: 'camera' });
      }
      if (audio) await room.publish(audio, { source: 'microphone' });
    }
  } catch (error) {
    console.error(error);
    $('join-error').textContent = error.message ?? String(error);
    for (const t of localStream?.getTracks() ?? []) t.stop();
  } finally {
    $('join').disabled = false;
  }
});

function wireRoom(r) {
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

function showMeeting(roomName) {
  $('join-form').hidden = true;
  $('meeting').hidden = false;
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
    meeting.selfTile.setSelfPaused(stopped);
  };
  $('leave').onclick = () => room.leave();
}

function showJoinForm(message) {
  meeting?.close();
  meeting = undefined;
  $('meeting').hidden = true;
  $('join-form').hidden = false;
  $('room-label').textContent = '';
  $('status').hidden = true;
  $('join-error').textContent = message;
}
