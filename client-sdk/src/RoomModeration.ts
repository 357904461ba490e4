import type { LobbyEntry, ResponseData, RoomPolicies, RoomSettings, Source } from '@kaskade/protocol';
import type { Act } from './act.ts';
import type { SignalingChannel } from './SignalingChannel.ts';
import { ConnectionClosedError, RequestError } from './SignalingChannel.ts';
import type { RoomEvents } from './types.ts';

/** What moderation needs of its room. */
export interface RoomModerationHost {
  act: Act;
  /** The channel of the session that speaks for the room now. */
  channel(): SignalingChannel;
  /** A moderator paused (microphone, camera) or closed (screen) what we publish of `source`. */
  heldByModerator(source: Source): void;
  /** The server ended the room for us: no reconnect. */
  finish(reason: string): void;
  emit<E extends keyof RoomEvents>(event: E, ...args: RoomEvents[E]): void;
}

/**
 * The host's tools (mute, remove, lock, policies, the lobby, end the meeting) as typed
 * calls on the room actions, and what the server tells us of them: the room's settings,
 * the lobby's queue (moderators), and our own mutes. The edge enforces every rule; this
 * side keeps the picture so the application can show it, and refuses to unmute what a
 * moderator forbade before asking (the edge would refuse it anyway).
 */
export class RoomModeration {
  readonly #host: RoomModerationHost;
  /** What a moderator muted and forbade us to unmute ourselves. */
  readonly #forbidden = new Set<Source>();
  #settings: RoomSettings | undefined;
  #lobby: LobbyEntry[] = [];

  constructor(host: RoomModerationHost) {
    this.#host = host;
  }

  get settings(): RoomSettings | undefined {
    return this.#settings;
  }

  /** Moderators: who waits in the lobby, as the edge last said. */
  get lobby(): readonly LobbyEntry[] {
    return this.#lobby;
  }

  /** The sources we may not unmute (or publish again) until a moderator asks us to. */
  get forbidden(): readonly Source[] {
    return [...this.#forbidden];
  }

  /** A session joined: its picture replaces ours. */
  joined({ settings, forbidden }: Pick<ResponseData<'join'>, 'settings' | 'forbidden'>): void {
    this.#settings = settings;
    this.#forbidden.clear();
    for (const source of forbidden) this.#forbidden.add(source);
  }

  /** Throws the edge's FORBIDDEN before asking, when a moderator forbade unmuting `source`. */
  assertMayUnmute(source: Source, method: string): void {
    if (!this.#forbidden.has(source)) return;
    throw new RequestError(method, {
      code: 'FORBIDDEN',
      message: `a moderator muted your ${source} and has not allowed you to unmute it`,
    });
  }

  /** The moderation notifications of a session; `current` says whether it speaks for the room. */
  wire(channel: SignalingChannel, current: () => boolean): void {
    const host = this.#host;
    channel.on('mutedByModerator', ({ source, forbidUnmute }) => {
      if (!current()) return;
      if (forbidUnmute) this.#forbidden.add(source);
      host.heldByModerator(source);
      host.emit('mutedByModerator', source, forbidUnmute);
    });
    channel.on('unmuteRequested', ({ source }) => {
      if (!current()) return;
      this.#forbidden.delete(source);
      host.emit('unmuteRequested', source);
    });
    channel.on('settingsChanged', (settings) => {
      if (!current()) return;
      this.#settings = settings;
      host.emit('settingsChanged', settings);
    });
    channel.on('lobbyChanged', ({ waiting }) => {
      if (!current()) return;
      this.#lobby = waiting;
      host.emit('lobbyChanged', waiting);
    });
    channel.on('removedFromRoom', ({ reason, banned }) => {
      if (!current()) return;
      host.emit('removed', reason, banned);
      host.finish(banned ? `removed and banned: ${reason}` : `removed: ${reason}`);
    });
    channel.on('meetingEnded', () => {
      if (!current()) return;
      host.emit('meetingEnded');
      host.finish('the meeting ended');
    });
  }

  muteParticipant(participantId: string, source: Source, { forbidUnmute = false } = {}): Promise<void> {
    return this.#done(this.#host.act('muteParticipant', { participantId, source, forbidUnmute }));
  }

  muteEveryone(source: 'microphone' | 'camera', { forbidUnmute = false } = {}): Promise<void> {
    return this.#done(this.#host.act('muteEveryone', { source, forbidUnmute }));
  }

  askToUnmute(participantId: string, source: Source): Promise<void> {
    return this.#done(this.#host.act('askToUnmute', { participantId, source }));
  }

  removeParticipant(participantId: string, { reason, ban = false }: { reason?: string; ban?: boolean } = {}) {
    return this.#done(
      this.#host.act('removeParticipant', { participantId, ban, ...(reason ? { reason } : {}) }),
    );
  }

  unbanIdentity(identity: string): Promise<void> {
    return this.#done(this.#host.act('unbanIdentity', { identity }));
  }

  lockRoom(locked: boolean): Promise<void> {
    return this.#done(this.#host.act('lockRoom', { locked }));
  }

  async setPolicies(policies: Partial<RoomPolicies>): Promise<RoomSettings> {
    const { settings } = await this.#host.act('setPolicies', { policies });
    this.#settings = settings;
    return settings;
  }

  admit(participantId: string): Promise<void> {
    return this.#done(this.#host.act('admitFromLobby', { participantId }));
  }

  deny(participantId: string, reason?: string): Promise<void> {
    return this.#done(this.#host.act('denyFromLobby', { participantId, ...(reason ? { reason } : {}) }));
  }

  /** Moderators: who waits in the lobby now, oldest first. */
  async listLobby(): Promise<LobbyEntry[]> {
    const { waiting } = await this.#host.channel().request('listLobby', {});
    this.#lobby = waiting;
    return waiting;
  }

  /** The room's lock and policies, asked of the edge now. */
  async fetchSettings(): Promise<RoomSettings> {
    const settings = await this.#host.channel().request('roomSettings', {});
    this.#settings = settings;
    return settings;
  }

  /** Ends it for us too: the edge may close our socket before its answer reaches us. */
  async endMeeting(): Promise<void> {
    try {
      await this.#host.act('endMeeting', {});
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) throw error;
    }
  }

  /** Actions answer `{}`: the effect arrives as the room's notifications. */
  async #done(answer: Promise<unknown>): Promise<void> {
    await answer;
  }
}
