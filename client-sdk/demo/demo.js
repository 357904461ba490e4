// The demo page: plain JavaScript on the SDK bundle, as an application would use it.
// This module joins and leaves, and keeps the controls; meeting.js lays out the room,
// tile.js draws one participant, and the side panel's tabs are people.js (with the
// host's tools and the lobby), chat.js and breakouts.js.
import { Room } from '/sdk/kaskade.js';
import { BreakoutsPanel } from './breakouts.js';
import { ChatPanel } from './chat.js';
import { Meeting } from './meeting.js';
import { PeoplePanel } from './people.js';
import { attempt, toast } from './ui.js';

const $ = (id) => document.getElementById(id);
let room;
let meeting;
let panels = [];
let localStream;
let screenTrack;
/** A join waiting in the lobby, to cancel. */
let cancelJoin;

const SOURCE_LABEL = { microphone: 'microphone', camera: 'camera', screen: 'screen share' };

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
  const host = $('host').checked;
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
          host: host || undefined,
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
    const joining = Room.connect({ token: ticket, onLobby: showLobby });
    cancelJoin = () => joining.then((r) => r.leave()).catch(() => {});
    room = await joining;
    window.kaskadeRoom = room; // for poking at from the console
    wireRoom(room);
    showMeeting();
    openViews();
    if (localStream) {
      const [audio] = localStream.getAudioTracks();
      const [video] = localStream.getVideoTracks();
      if (video) {
        meeting.selfTile.setVideo(video);
        await room.publish(video, { source: 'camera' });
      }
      if (audio) await room.publish(audio, { source: 'microphone' });
    }
    refreshControls();
  } catch (error) {
    console.error(error);
    const denied = error.code === 'FORBIDDEN';
    showJoinForm(
      denied
        ? `Not let in: ${error.message.replace(/^join: FORBIDDEN: /, '')}`
        : (error.message ?? String(error)),
    );
    for (const t of localStream?.getTracks() ?? []) t.stop();
  } finally {
    $('join').disabled = false;
  }
});

/** The join waits in the lobby: show our place in the queue. */
function showLobby(position) {
  $('join-form').hidden = true;
  $('lobby-wait').hidden = false;
  $('lobby-position').textContent = String(position);
  $('lobby-wait').dataset.position = String(position);
}

$('lobby-cancel').onclick = () => {
  cancelJoin?.();
  location.reload();
};

function wireRoom(r) {
  r.on('connectionStateChanged', (state) => {
    const status = $('status');
    status.hidden = state === 'connected';
    status.textContent = state === 'reconnecting' ? 'Reconnecting…' : state;
  });
  r.on('disconnected', (reason) => {
    for (const t of localStream?.getTracks() ?? []) t.stop();
    screenTrack?.stop();
    showJoinForm(reason === 'left' ? '' : `Disconnected: ${reason}`);
  });
  r.on('mutedByModerator', (source, forbidUnmute) => {
    if (source === 'screen') stopScreenLocally();
    refreshControls();
    const more = forbidUnmute ? ' You cannot unmute until the host allows it.' : '';
    toast(`The host turned off your ${SOURCE_LABEL[source] ?? source}.${more}`, { kind: 'warn' });
  });
  r.on('unmuteRequested', (source) => {
    refreshControls();
    const paused = r.publications.find((p) => p.source === source)?.paused;
    if (!paused) return;
    toast(`The host asks you to turn on your ${SOURCE_LABEL[source] ?? source}.`, {
      action: { label: 'Turn on', run: () => setPaused(source, false) },
      ms: 15_000,
    });
  });
  r.on('removed', (reason, banned) =>
    toast(banned ? `You were removed and banned: ${reason}` : `You were removed: ${reason}`, {
      kind: 'error',
      ms: 15_000,
    }),
  );
  r.on('meetingEnded', () => toast('The host ended the meeting.', { ms: 15_000 }));
  r.on('settingsChanged', refreshControls);
  r.on('roleChanged', refreshControls);
  r.on('breakoutBroadcast', (text) => toast(`Message from the host: ${text}`, { ms: 15_000 }));
  r.on('helpRequested', (help) => {
    const label = panels.find((p) => p instanceof BreakoutsPanel)?.labelOf(help.room) ?? help.room;
    toast(`${help.name} asks for help in “${label}”.`, { kind: 'warn', ms: 20_000 });
  });
  // A breakout or the way back: the same Room object, another room behind it.
  r.on('roomSwitched', () => {
    closeViews();
    openViews();
    refreshControls();
  });
}

/** The stage, gallery and panels over the room as it is now. */
function openViews() {
  meeting = new Meeting(room, {
    stage: $('stage'),
    screens: $('screens'),
    gallery: $('gallery'),
    self: $('self-view'),
    audio: $('audio-sink'),
    pager: $('pager'),
    prev: $('page-prev'),
    next: $('page-next'),
    lastN: $('last-n'),
  });
  window.kaskadeMeeting = meeting;
  const local = room.publications.find((p) => p.source === 'camera');
  if (local) meeting.selfTile.setVideo(local.track);
  const chat = new ChatPanel(room);
  panels = [new PeoplePanel(room), chat, new BreakoutsPanel(room)];
  window.kaskadeChat = chat;
  selectTab(document.querySelector('.tab.active')?.dataset.tab ?? 'people');
  $('room-label').textContent = roomLabel();
  $('room-label').dataset.room = room.name ?? $('room').value;
}

function closeViews() {
  meeting?.close();
  meeting = undefined;
  for (const panel of panels) panel.close();
  panels = [];
}

function roomLabel() {
  const edge = $('room-label').dataset.edge;
  const name = room.name ?? $('room').value;
  return `room ${name}${edge ? ` · edge ${edge}` : ''}${room.grants.moderate ? ' · host' : ''}`;
}

for (const tab of document.querySelectorAll('.tab')) tab.onclick = () => selectTab(tab.dataset.tab);

function selectTab(name) {
  for (const tab of document.querySelectorAll('.tab')) {
    tab.classList.toggle('active', tab.dataset.tab === name);
    tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  }
  for (const body of document.querySelectorAll('.tab-body')) body.hidden = body.dataset.tab !== name;
  window.kaskadeChat?.setVisible(name === 'chat');
}

async function setPaused(source, paused) {
  await attempt(() => room.setPublicationPaused(source, paused));
  refreshControls();
}

/** The mic, camera and screen buttons as the publications are (a host may have muted them). */
function refreshControls() {
  if (!room || room.state === 'closed') return;
  const mic = $('toggle-mic');
  const cam = $('toggle-cam');
  const pub = (source) => room.publications.find((p) => p.source === source);
  const forbidden = new Set(room.forbidden ?? []);
  const micPub = pub('microphone');
  const camPub = pub('camera');
  mic.hidden = !micPub;
  cam.hidden = !camPub;
  mic.classList.toggle('off', Boolean(micPub?.paused));
  mic.textContent = micPub?.paused ? 'Unmute' : 'Mute';
  mic.dataset.forbidden = String(forbidden.has('microphone'));
  mic.title = forbidden.has('microphone')
    ? 'The host muted you; ask them to let you unmute'
    : 'Mute or unmute your microphone';
  cam.classList.toggle('off', Boolean(camPub?.paused));
  cam.textContent = camPub?.paused ? 'Start video' : 'Stop video';
  cam.dataset.forbidden = String(forbidden.has('camera'));
  meeting?.selfTile.setSelfPaused(Boolean(camPub?.paused));
  meeting?.selfTile.setAudioPaused(Boolean(micPub?.paused));
  const share = $('share-screen');
  share.hidden = !room.grants.publish || !navigator.mediaDevices?.getDisplayMedia;
  share.classList.toggle('sharing', Boolean(screenTrack));
  share.textContent = screenTrack ? 'Stop sharing' : 'Share screen';
  share.dataset.forbidden = String(forbidden.has('screen'));
}

function showMeeting() {
  $('join-form').hidden = true;
  $('lobby-wait').hidden = true;
  $('meeting').hidden = false;
  $('toggle-mic').onclick = () => setPaused('microphone', !pub('microphone')?.paused);
  $('toggle-cam').onclick = () => setPaused('camera', !pub('camera')?.paused);
  $('share-screen').onclick = () => (screenTrack ? stopScreen() : shareScreen());
  $('leave').onclick = () => room.leave();
}

function pub(source) {
  return room.publications.find((p) => p.source === source);
}

async function shareScreen() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
  } catch (error) {
    if (error.name !== 'NotAllowedError')
      toast(`Cannot share the screen: ${error.message}`, { kind: 'error' });
    return;
  }
  const [track] = stream.getVideoTracks();
  screenTrack = track;
  track.addEventListener('ended', () => stopScreen());
  if (!(await attempt(() => room.publish(track, { source: 'screen', simulcast: false }))))
    stopScreenLocally();
  refreshControls();
}

async function stopScreen() {
  if (!screenTrack) return;
  stopScreenLocally();
  await attempt(() => room.unpublish('screen'));
  refreshControls();
}

function stopScreenLocally() {
  screenTrack?.stop();
  screenTrack = undefined;
}

function showJoinForm(message) {
  closeViews();
  $('meeting').hidden = true;
  $('lobby-wait').hidden = true;
  $('join-form').hidden = false;
  $('room-label').textContent = '';
  $('status').hidden = true;
  $('join-error').textContent = message;
}
