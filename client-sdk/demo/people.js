// The participants panel: who is here (with what they publish), and for a host the tools:
// mute a microphone, camera or screen (optionally forbidding unmuting), ask to unmute,
// remove or ban, lock the room, the lobby (admit, deny), mute everyone, end the meeting.
import { attempt, batched, el } from './ui.js';

export class PeoplePanel {
  #room;
  #unsubscribe = [];

  constructor(room) {
    this.#room = room;
    const host = Boolean(room.grants.moderate);
    const $ = (id) => document.getElementById(id);
    $('host-tools').hidden = !host;
    if (host) this.#wireHostTools($);
    const render = () => this.render();
    this.#unsubscribe = [
      room.on('participantJoined', render),
      room.on('participantLeft', render),
      room.on('trackAdded', render),
      room.on('trackRemoved', render),
      room.on('trackPaused', render),
      room.on('trackResumed', render),
      room.on('settingsChanged', render),
      room.on('lobbyChanged', render),
    ];
    if (host) room.listLobby().then(render, () => {});
    this.render();
  }

  close() {
    for (const off of this.#unsubscribe) off();
  }

  render = batched(() => this.#render());

  #wireHostTools($) {
    const room = this.#room;
    const forbid = () => ({ forbidUnmute: $('forbid-unmute').checked });
    $('mute-all').onclick = () => attempt(() => room.muteEveryone('microphone', forbid()));
    $('stop-all-video').onclick = () => attempt(() => room.muteEveryone('camera', forbid()));
    $('lock-room').onchange = (e) => attempt(() => room.lockRoom(e.target.checked));
    $('lobby-on').onchange = (e) => attempt(() => room.setPolicies({ lobby: e.target.checked }));
    $('end-meeting').onclick = () => {
      if (confirm('End the meeting for everyone?')) attempt(() => room.endMeeting());
    };
  }

  #render() {
    const room = this.#room;
    if (room.state === 'closed') return;
    const host = Boolean(room.grants.moderate);
    const settings = room.settings;
    if (host && settings) {
      document.getElementById('lock-room').checked = settings.locked;
      document.getElementById('lobby-on').checked = settings.policies.lobby;
    }
    const people = [room.self, ...room.participants.values()];
    document.getElementById('people-count').textContent = String(people.length);
    document.getElementById('people-list').replaceChildren(...people.map((p) => this.#row(p, host)));
    const lobby = document.getElementById('lobby');
    lobby.hidden = !host || room.lobby.length === 0;
    document.getElementById('lobby-list').replaceChildren(...room.lobby.map((entry) => this.#waiting(entry)));
  }

  /** What a participant publishes and whether it is muted, as tags. */
  #state(participantId) {
    const room = this.#room;
    const self = participantId === room.self.id;
    const tags = [];
    for (const source of ['microphone', 'camera', 'screen']) {
      const pub = self
        ? room.publications.find((p) => p.source === source)
        : room.tracks.get(`${participantId}/${source}`);
      if (!pub) continue;
      const label = { microphone: 'mic', camera: 'cam', screen: 'screen' }[source];
      tags.push(
        el(`span.tag${pub.paused ? '.off' : ''}`, { textContent: pub.paused ? `${label} off` : label }),
      );
    }
    return tags;
  }

  #row(participant, host) {
    const room = this.#room;
    const self = participant.id === room.self.id;
    const row = el(
      'li.person',
      { data: { participant: participant.id } },
      el('span.who', { textContent: self ? `${participant.name} (you)` : participant.name }),
      el('span.tags', {}, ...this.#state(participant.id)),
    );
    if (!host || self) return row;
    const forbid = () => document.getElementById('forbid-unmute').checked;
    const act = (label, action, run, title) =>
      el('button.small.ghost', {
        type: 'button',
        textContent: label,
        title,
        data: { action },
        onclick: () => attempt(run),
      });
    const id = participant.id;
    const mic = room.tracks.get(`${id}/microphone`);
    const cam = room.tracks.get(`${id}/camera`);
    const screen = room.tracks.get(`${id}/screen`);
    const actions = el(
      'div.actions',
      {},
      mic && !mic.paused
        ? act('Mute', 'mute-microphone', () =>
            room.muteParticipant(id, 'microphone', { forbidUnmute: forbid() }),
          )
        : act('Ask to unmute', 'ask-microphone', () => room.askToUnmute(id, 'microphone')),
      cam && !cam.paused
        ? act('Stop cam', 'mute-camera', () => room.muteParticipant(id, 'camera', { forbidUnmute: forbid() }))
        : act('Ask for video', 'ask-camera', () => room.askToUnmute(id, 'camera')),
      screen
        ? act('Stop screen', 'mute-screen', () =>
            room.muteParticipant(id, 'screen', { forbidUnmute: forbid() }),
          )
        : null,
      act('Remove', 'remove', () => room.removeParticipant(id, { reason: 'removed by the host' })),
      act('Ban', 'ban', () => room.removeParticipant(id, { reason: 'banned by the host', ban: true })),
    );
    row.append(actions);
    return row;
  }

  #waiting(entry) {
    const room = this.#room;
    return el(
      'li.person',
      { data: { participant: entry.participantId } },
      el('span.who', { textContent: entry.name }),
      el(
        'div.actions',
        {},
        el('button.small.admit', {
          type: 'button',
          textContent: 'Admit',
          onclick: () => attempt(() => room.admit(entry.participantId)),
        }),
        el('button.small.ghost.deny', {
          type: 'button',
          textContent: 'Deny',
          onclick: () => attempt(() => room.deny(entry.participantId)),
        }),
      ),
    );
  }
}
