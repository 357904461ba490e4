// The breakout rooms panel. A host creates N rooms, assigns people (at random or by hand),
// opens them (with a timer or not), broadcasts to all of them and closes them; everyone
// sees which room they are in, and from a breakout can ask the host for help.
import { attempt, el, toast } from './ui.js';

export class BreakoutsPanel {
  #room;
  #state = { status: 'none', rooms: [], endsAt: null };
  #unsubscribe = [];
  #timer;

  constructor(room) {
    this.#room = room;
    const $ = (id) => document.getElementById(id);
    const breakouts = room.breakouts;
    $('breakouts-tab').hidden = !breakouts;
    const host = Boolean(room.grants.moderate);
    $('breakout-host').hidden = !host;
    if (!breakouts) return;
    if (host) {
      $('breakout-create').onclick = () =>
        this.#update(() => breakouts.create(Number($('breakout-count').value) || 1));
      $('breakout-random').onclick = () => this.#update(() => breakouts.assignRandomly());
      $('breakout-open').onclick = () => {
        const minutes = Number($('breakout-minutes').value) || 0;
        this.#update(() => breakouts.open(minutes > 0 ? minutes * 60 : undefined));
      };
      $('breakout-close').onclick = () => this.#update(() => breakouts.close());
      $('breakout-broadcast-form').onsubmit = async (e) => {
        e.preventDefault();
        const text = $('breakout-broadcast-text').value.trim();
        if (!text) return;
        await attempt(() => breakouts.broadcast(text));
        $('breakout-broadcast-text').value = '';
      };
    }
    $('ask-help').onclick = async () => {
      if ((await attempt(() => room.askForHelp())) !== undefined)
        toast('The host has been told you need help.');
    };
    this.#unsubscribe = [
      room.on('breakoutsChanged', (state) => this.#show(state)),
      room.on('participantJoined', () => this.render()),
      room.on('participantLeft', () => this.render()),
    ];
    this.#timer = setInterval(() => this.#renderStatus(), 1000);
    attempt(async () => this.#show(await breakouts.state()));
  }

  close() {
    clearInterval(this.#timer);
    for (const off of this.#unsubscribe) off();
  }

  async #update(work) {
    const state = await attempt(work);
    if (state) this.#show(state);
  }

  #show(state) {
    if (!state) return;
    this.#state = state;
    this.render();
  }

  /** A breakout room's label ("Room 1") from its room name, as far as the state says. */
  labelOf(roomName) {
    return this.#state.rooms.find((r) => r.room === roomName)?.name ?? roomName;
  }

  /** The breakout room we are in, if this room is one. */
  get #here() {
    return this.#state.rooms.find((r) => r.room === this.#room.name);
  }

  render() {
    const room = this.#room;
    if (room.state === 'closed') return;
    const host = Boolean(room.grants.moderate);
    const here = this.#here;
    document.getElementById('breakout-banner').hidden = !here;
    document.getElementById('breakout-where').textContent = here
      ? `You are in breakout room “${here.name}”`
      : '';
    document.getElementById('ask-help').hidden = !here || host;
    const people = [room.self, ...room.participants.values()];
    const nameOf = new Map(people.map((p) => [p.identity, p.name]));
    const rows = this.#state.rooms.map((r) => {
      const members = r.identities.map((id) => nameOf.get(id) ?? id);
      return el(
        `li.breakout${r === here ? '.here' : ''}`,
        { data: { room: r.room } },
        el('strong', { textContent: r.name }),
        el('span.members', { textContent: members.length ? members.join(', ') : 'nobody yet' }),
      );
    });
    if (host && this.#state.status === 'created' && !here) rows.push(this.#assignByHand(people));
    document.getElementById('breakout-rooms').replaceChildren(...rows);
    this.#renderStatus();
  }

  /** One select per participant (not moderators), naming the room they go to. */
  #assignByHand(people) {
    const room = this.#room;
    const where = new Map();
    for (const r of this.#state.rooms) for (const id of r.identities) where.set(id, r.room);
    const selects = people
      .filter((p) => p.id !== room.self.id)
      .map((p) => {
        const select = el('select.assign', {
          data: { participant: p.id },
          'aria-label': `Room for ${p.name}`,
        });
        select.append(el('option', { value: '', textContent: '—' }));
        for (const r of this.#state.rooms)
          select.append(
            el('option', { value: r.room, textContent: r.name, selected: where.get(p.identity) === r.room }),
          );
        select.onchange = () =>
          select.value &&
          this.#update(() => room.breakouts.assign([{ participantId: p.id, room: select.value }]));
        return el('label.inline.assign-row', {}, p.name, select);
      });
    return el('li.assign-list', {}, el('span.hint', { textContent: 'Assign by hand' }), ...selects);
  }

  #renderStatus() {
    const { status, endsAt, rooms } = this.#state;
    const left = endsAt ? Math.max(0, Math.round((endsAt - Date.now()) / 1000)) : null;
    const clock =
      left === null ? '' : ` · closing in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    const text =
      status === 'none'
        ? 'No breakout rooms.'
        : status === 'created'
          ? `${rooms.length} rooms created, not open yet.`
          : `${rooms.length} rooms open${clock}.`;
    const node = document.getElementById('breakout-status');
    node.textContent = text;
    node.dataset.status = status;
  }
}
