// The chat panel: one tab per channel (general, and those a host opens: a Q&A beside it,
// one per group...), each with its history; in a Q&A channel the questions are sorted by
// votes, anyone upvotes, a host marks them answered.
import { attempt, el, timeOf } from './ui.js';

export class ChatPanel {
  #room;
  #chat;
  /** channel id -> Map(message id -> message), loaded on first view. */
  #messages = new Map();
  #unread = new Map();
  #current = 'general';
  #visible = false;
  #unsubscribe = [];

  constructor(room) {
    this.#room = room;
    this.#chat = room.chat;
    const $ = (id) => document.getElementById(id);
    $('open-channel').hidden = !room.grants.moderate;
    $('open-channel').onsubmit = (e) => {
      e.preventDefault();
      this.#openChannel($('channel-name').value.trim(), $('channel-kind').value);
    };
    $('chat-form').onsubmit = (e) => {
      e.preventDefault();
      this.#send($('chat-text'));
    };
    this.#unsubscribe = [
      this.#chat.on('chatMessage', (m) => this.#add(m, true)),
      this.#chat.on('chatDeleted', (channel, id) => {
        this.#messages.get(channel)?.delete(id);
        if (channel === this.#current) this.#renderMessages();
      }),
      this.#chat.on('questionUpdated', ({ channel, messageId, votes, answered }) => {
        const message = this.#messages.get(channel)?.get(messageId);
        if (message) Object.assign(message, { votes, answered });
        if (channel === this.#current) this.#renderMessages();
      }),
      this.#chat.on('channelsChanged', () => this.#renderTabs()),
    ];
    this.#renderTabs();
    this.select('general');
  }

  close() {
    for (const off of this.#unsubscribe) off();
  }

  /** The panel was shown or hidden (unread counts only count what is not seen). */
  setVisible(visible) {
    this.#visible = visible;
    if (visible) this.#unread.delete(this.#current);
    this.#renderTabs();
  }

  get channel() {
    return this.#current;
  }

  async select(channelId) {
    this.#current = channelId;
    this.#unread.delete(channelId);
    const kind = this.#kind(channelId);
    document.getElementById('chat-text').placeholder =
      kind === 'qa' ? 'Ask a question' : `Message ${this.#name(channelId)}`;
    this.#renderTabs();
    this.#renderMessages();
    if (!this.#messages.has(channelId)) await this.#load(channelId);
  }

  async #load(channelId) {
    const kind = this.#kind(channelId);
    const messages = await attempt(() =>
      kind === 'qa' ? this.#chat.questions(channelId) : this.#chat.history(channelId),
    );
    const loaded = this.#messages.get(channelId) ?? new Map();
    for (const m of messages ?? []) if (!loaded.has(m.id)) loaded.set(m.id, m);
    this.#messages.set(channelId, loaded);
    if (channelId === this.#current) this.#renderMessages();
  }

  #kind(channelId) {
    return this.#chat.channels.find((c) => c.id === channelId)?.kind ?? 'chat';
  }

  #name(channelId) {
    return this.#chat.channels.find((c) => c.id === channelId)?.name ?? channelId;
  }

  #add(message, fromOthers) {
    const list = this.#messages.get(message.channel) ?? new Map();
    list.set(message.id, message);
    this.#messages.set(message.channel, list);
    if (message.channel === this.#current) this.#renderMessages();
    if (fromOthers && (message.channel !== this.#current || !this.#visible)) {
      this.#unread.set(message.channel, (this.#unread.get(message.channel) ?? 0) + 1);
      this.#renderTabs();
    }
  }

  async #send(input) {
    const text = input.value.trim();
    if (!text) return;
    const message = await attempt(() => this.#chat.send(text, { channel: this.#current }));
    if (!message) return;
    input.value = '';
    this.#add(message, false);
  }

  async #openChannel(name, kind) {
    if (!name) return;
    const id =
      name
        .toLowerCase()
        .replace(/[^a-z0-9_.-]+/g, '-')
        .replace(/^-+|-+$/g, '') || `channel-${Date.now()}`;
    const channel = await attempt(() => this.#chat.openChannel({ id, name, kind }));
    if (!channel) return;
    document.getElementById('channel-name').value = '';
    this.#renderTabs();
    this.select(channel.id);
  }

  #renderTabs() {
    const unreadTotal = [...this.#unread.values()].reduce((a, b) => a + b, 0);
    document.getElementById('chat-unread').textContent = unreadTotal ? String(unreadTotal) : '';
    const tabs = this.#chat.channels.map((c) => {
      const unread = this.#unread.get(c.id);
      return el(
        `button.chat-tab${c.id === this.#current ? '.active' : ''}`,
        {
          type: 'button',
          role: 'tab',
          data: { channel: c.id, kind: c.kind },
          onclick: () => this.select(c.id),
        },
        c.name,
        unread ? el('span.count', { textContent: String(unread) }) : null,
      );
    });
    document.getElementById('chat-tabs').replaceChildren(...tabs);
  }

  #renderMessages() {
    const list = [...(this.#messages.get(this.#current)?.values() ?? [])];
    const qa = this.#kind(this.#current) === 'qa';
    if (qa) {
      // As the edge orders them: open questions first, most votes first, then the oldest.
      list.sort(
        (a, b) =>
          Number(a.answered ?? false) - Number(b.answered ?? false) ||
          (b.votes ?? 0) - (a.votes ?? 0) ||
          a.sentAt - b.sentAt,
      );
    }
    const box = document.getElementById('chat-messages');
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.replaceChildren(...list.map((m) => this.#messageRow(m, qa)));
    if (list.length === 0)
      box.append(el('li.empty', { textContent: qa ? 'No questions yet.' : 'No messages yet.' }));
    if (nearBottom || !qa) box.scrollTop = box.scrollHeight;
  }

  #messageRow(m, qa) {
    const room = this.#room;
    const mine = m.from.participantId === room.self.id;
    const row = el(
      `li.message${mine ? '.mine' : ''}${m.answered ? '.answered' : ''}`,
      { data: { message: m.id, from: m.from.participantId } },
      el(
        'div.meta',
        {},
        el('strong', { textContent: mine ? 'You' : m.from.name }),
        el('time', { textContent: timeOf(m.sentAt) }),
        m.to ? el('span.tag', { textContent: 'private' }) : null,
      ),
      el('div.text', { textContent: m.text }),
    );
    if (qa) {
      const controls = el(
        'div.qa',
        {},
        el('button.small.ghost.upvote', {
          type: 'button',
          title: 'Upvote',
          textContent: `▲ ${m.votes ?? 0}`,
          disabled: mine,
          onclick: async () => {
            const votes = await attempt(() => this.#chat.upvote(this.#current, m.id));
            if (votes !== undefined) m.votes = votes;
            this.#renderMessages();
          },
        }),
        m.answered ? el('span.tag.answered-tag', { textContent: 'answered' }) : null,
      );
      if (room.grants.moderate) {
        controls.append(
          el('button.small.ghost.mark-answered', {
            type: 'button',
            textContent: m.answered ? 'Reopen' : 'Mark answered',
            onclick: () => attempt(() => this.#chat.markAnswered(this.#current, m.id, !m.answered)),
          }),
        );
      }
      row.append(controls);
    }
    if (room.grants.moderate) {
      row.append(
        el('button.small.ghost.delete', {
          type: 'button',
          title: 'Delete this message for everyone',
          textContent: '✕',
          onclick: () => attempt(() => this.#chat.deleteMessage(this.#current, m.id)),
        }),
      );
    }
    return row;
  }
}
