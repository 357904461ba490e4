// One participant's tile: video when the edge forwards it, else an avatar with initials
// (drawn by the page, no external assets), the name, badges and a pin button.

/** Why a tile shows the avatar instead of video, as the badge says it. */
const OFF_LABEL = {
  noVideo: '',
  pausedBySender: 'video off',
  notInLastN: 'not in last-N',
  noBandwidth: 'no bandwidth',
};

export function initials(name) {
  return name
    .split(/\s+/)
    .map((w) => [...w][0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

export class Tile {
  /** The remote video track shown (or null); for our own tile, a local MediaStreamTrack. */
  #video = null;
  #audioPaused = false;
  #self;
  /** Our own camera is paused (the local track keeps running). */
  #selfPaused = false;

  constructor(participant, { self = false, onPin } = {}) {
    this.participantId = participant.id;
    this.#self = self;
    this.el = document.getElementById('tile-template').content.firstElementChild.cloneNode(true);
    this.el.dataset.participant = participant.id;
    this.el.classList.toggle('self', self);
    this.el.querySelector('.name').textContent = self ? `${participant.name} (you)` : participant.name;
    this.el.querySelector('.avatar').textContent = initials(participant.name);
    const pin = this.el.querySelector('.pin');
    if (self || !onPin) pin.remove();
    else pin.onclick = () => onPin(this.participantId);
    this.refresh();
  }

  /** A remote video track (RemoteTrack) or, for our own tile, the local camera track. */
  setVideo(video) {
    this.#video = video;
    const element = this.el.querySelector('video');
    if (!video) element.srcObject = null;
    // A RemoteTrack's stream stays the same across switches: attached once.
    else element.srcObject = this.#self ? new MediaStream([video]) : video.stream;
    this.refresh();
  }

  setAudioPaused(paused) {
    this.#audioPaused = paused;
    this.refresh();
  }

  /** Why there is no video, or null when video shows. */
  get offReason() {
    const video = this.#video;
    if (!video) return 'noVideo';
    if (this.#self) return this.#selfPaused ? 'pausedBySender' : null;
    if (video.paused) return 'pausedBySender';
    return video.forwarding.on ? null : video.forwarding.reason;
  }

  /** Our own camera was paused or resumed (the local track keeps running). */
  setSelfPaused(paused) {
    this.#selfPaused = paused;
    this.refresh();
  }

  /** Redraws from the track's state: video or avatar, and the badges. */
  refresh() {
    const reason = this.offReason;
    this.el.classList.toggle('no-video', reason !== null);
    this.el.dataset.video = reason === null ? 'on' : 'off';
    this.el.dataset.reason = reason ?? '';
    const badges = [];
    if (this.#audioPaused) badges.push('mic off');
    if (reason && OFF_LABEL[reason]) badges.push(OFF_LABEL[reason]);
    this.el.querySelector('.badges').textContent = badges.join(' · ');
  }

  /** Where the tile is shown, whether it is pinned and whether its participant speaks. */
  place({ size, pinned, speaking }) {
    this.el.dataset.size = size;
    this.el.classList.toggle('pinned', pinned);
    this.el.classList.toggle('speaking', speaking);
    const pin = this.el.querySelector('.pin');
    if (pin) {
      pin.textContent = pinned ? 'Unpin' : 'Pin';
      pin.setAttribute('aria-pressed', String(pinned));
    }
  }
}
