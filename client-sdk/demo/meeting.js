// The meeting view: a stage with the current speaker (or whoever is pinned) at the stage
// size, a paginated gallery of thumbnails for the others, and last-N that follows what is
// on screen. The SDK's meetingLayout ranks participants as the edge's last-N does, so the
// tiles shown are those whose video the edge forwards; the rest get avatars.
import { meetingLayout } from '/sdk/kaskade.js';
import { Tile } from './tile.js';
import { batched } from './ui.js';

const PAGE_SIZE = 9;
const STAGE_SIZE = 1;

export class Meeting {
  #room;
  #elements;
  /** Remote participants' tiles, by participant id; our own is apart. */
  #tiles = new Map();
  #selfTile;
  /** Audio plays whatever the layout: one element per remote audio track, by track id. */
  #audio = new Map();
  /** Remote screen shares, shown above the stage at full size, by track id. */
  #screens = new Map();
  #page = 0;
  /** The last-N selector: 'auto' (follow the gallery) or a cap. */
  #cap = 'auto';
  /** The n last asked of the room, so it is asked again only when it changes. */
  #askedN;
  /** The room's latest videoForwarding state (by track id), for tests and the console. */
  forwarding = new Map();
  #layout;
  /** Unsubscribes from the room's events. */
  #unsubscribe = [];

  /** `elements`: stage, screens, gallery, self, audio (containers), pager, prev, next, lastN (the selector). */
  constructor(room, elements) {
    this.#room = room;
    this.#elements = elements;
    this.#selfTile = new Tile(room.self, { self: true });
    elements.self.append(this.#selfTile.el);
    elements.prev.onclick = () => this.#turn(-1);
    elements.next.onclick = () => this.#turn(1);
    elements.lastN.value = 'auto';
    elements.lastN.onchange = () => {
      this.#cap = elements.lastN.value === 'auto' ? 'auto' : Number(elements.lastN.value);
      this.render();
    };
    this.#wire();
    for (const participant of room.participants.values()) this.#addTile(participant);
    for (const track of room.tracks.values()) this.#trackAdded(track);
    this.render();
  }

  get selfTile() {
    return this.#selfTile;
  }

  /** Where each participant is now (stage, gallery page) and the n asked: for tests and the console. */
  get layout() {
    return { ...this.#layout, askedN: this.#askedN };
  }

  /** Re-lays the tiles once per turn of the event loop, however many events came. */
  render = batched(() => this.#render());

  close() {
    for (const off of this.#unsubscribe) off();
    for (const audio of this.#audio.values()) audio.remove();
    for (const screen of this.#screens.values()) screen.remove();
    this.#screens.clear();
    for (const tile of [...this.#tiles.values(), this.#selfTile]) tile.el.remove();
    this.#tiles.clear();
    this.#audio.clear();
  }

  #wire() {
    const r = this.#room;
    const render = () => this.render();
    const refreshAll = () => {
      for (const tile of this.#tiles.values()) tile.refresh();
    };
    this.#unsubscribe = [
      r.on('participantJoined', (p) => {
        this.#addTile(p);
        render();
      }),
      r.on('participantLeft', (p) => {
        this.#tiles.get(p.id)?.el.remove();
        this.#tiles.delete(p.id);
        render();
      }),
      r.on('trackAdded', (t) => this.#trackAdded(t)),
      r.on('trackRemoved', (t) => {
        if (t.source === 'screen') {
          this.#screens.get(t.id)?.remove();
          this.#screens.delete(t.id);
        } else if (t.kind === 'video') this.#tiles.get(t.participant.id)?.setVideo(null);
        else {
          this.#audio.get(t.id)?.remove();
          this.#audio.delete(t.id);
        }
      }),
      r.on('trackPaused', (t) => this.#trackPausedOrResumed(t)),
      r.on('trackResumed', (t) => this.#trackPausedOrResumed(t)),
      r.on('videoForwarding', (state) => {
        this.forwarding = state;
        refreshAll();
      }),
      r.on('speakerOrder', render),
      r.on('activeSpeaker', render),
    ];
  }

  #addTile(participant) {
    if (this.#tiles.has(participant.id)) return;
    this.#tiles.set(participant.id, new Tile(participant, { onPin: (id) => this.#togglePin(id) }));
  }

  #trackAdded(track) {
    this.#addTile(track.participant);
    const tile = this.#tiles.get(track.participant.id);
    if (track.kind === 'video') {
      if (track.source === 'camera') tile.setVideo(track);
      else if (track.source === 'screen') this.#addScreen(track);
    } else if (!this.#audio.has(track.id)) {
      const audio = document.createElement('audio');
      audio.autoplay = true;
      audio.srcObject = track.stream;
      this.#elements.audio.append(audio);
      this.#audio.set(track.id, audio);
    }
    this.#trackPausedOrResumed(track);
    this.render();
  }

  #addScreen(track) {
    if (this.#screens.has(track.id)) return;
    const figure = document.createElement('figure');
    figure.className = 'screen-share';
    figure.dataset.participant = track.participant.id;
    const video = document.createElement('video');
    Object.assign(video, { autoplay: true, playsInline: true, muted: true, srcObject: track.stream });
    const caption = document.createElement('figcaption');
    caption.textContent = `${track.participant.name} is sharing their screen`;
    figure.append(video, caption);
    this.#elements.screens.append(figure);
    this.#screens.set(track.id, figure);
    track.setDisplaySize('stage').catch(() => {});
  }

  #trackPausedOrResumed(track) {
    const tile = this.#tiles.get(track.participant.id);
    if (track.kind === 'audio') tile?.setAudioPaused(track.paused);
    else tile?.refresh();
  }

  async #togglePin(participantId) {
    const room = this.#room;
    try {
      if (room.pinned.includes(participantId)) await room.unpin(participantId);
      else await room.pin(participantId);
    } catch (error) {
      console.warn('pin failed', error.message);
    }
    this.render();
  }

  #turn(step) {
    this.#page = Math.max(0, this.#page + step);
    this.render();
  }

  #render() {
    const room = this.#room;
    if (room.state === 'closed') return;
    const layout = meetingLayout({
      participants: [...room.participants.keys()],
      speakerOrder: room.speakerOrder,
      pinned: room.pinned,
      stageSize: STAGE_SIZE,
      pageSize: PAGE_SIZE,
      page: this.#page,
    });
    this.#layout = layout;
    this.#page = layout.page;
    const { stage, gallery, pager, prev, next } = this.#elements;
    this.#show(stage, layout.stage, 'stage');
    this.#show(gallery, layout.gallery, 'thumbnail');
    const shown = new Set([...layout.stage, ...layout.gallery]);
    for (const [id, tile] of this.#tiles) if (!shown.has(id)) tile.el.remove();
    this.#selfTile.place({ size: 'self', pinned: false, speaking: room.activeSpeakerId === room.self.id });
    pager.textContent = `page ${layout.page + 1} / ${layout.pages}`;
    prev.disabled = layout.page === 0;
    next.disabled = layout.page >= layout.pages - 1;
    this.#askLastN(this.#cap === 'auto' ? layout.lastN : Math.min(this.#cap, layout.lastN));
  }

  /** Puts these participants' tiles in `container`, in order, at `size` (which picks the layer). */
  #show(container, ids, size) {
    const room = this.#room;
    const tiles = ids.map((id) => this.#tiles.get(id)).filter(Boolean);
    const same =
      container.children.length === tiles.length && tiles.every((t, i) => container.children[i] === t.el);
    if (!same) {
      container.replaceChildren(...tiles.map((t) => t.el));
      // A media element taken out of the page pauses; back in, it plays on.
      for (const tile of tiles)
        tile.el
          .querySelector('video')
          .play()
          .catch(() => {});
    }
    for (const tile of tiles) {
      const id = tile.participantId;
      tile.place({ size, pinned: room.pinned.includes(id), speaking: room.activeSpeakerId === id });
      const camera = room.tracks.get(`${id}/camera`);
      if (camera && camera.displaySize !== size) camera.setDisplaySize(size).catch(() => {});
    }
  }

  #askLastN(n) {
    if (n === this.#askedN) return;
    this.#askedN = n;
    this.#room.setLastN(n).catch((error) => console.warn('setLastN failed', error.message));
  }
}
