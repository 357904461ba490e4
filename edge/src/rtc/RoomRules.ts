import type { Admission } from '@kaskade/directory';
import { refusalOf } from '@kaskade/directory';
import {
  DEFAULT_SETTINGS,
  type JoinClaims,
  KaskadeError,
  type RoomSettings,
  type Source,
} from '@kaskade/protocol';
import type { LocalRoster } from './LocalRoster.ts';
import type { Participant } from './Participant.ts';

/** What the rules read and write of the room's state in the directory (the mesh; none standalone). */
export interface RulesLink {
  /** What decides a join of `identity`: settings, ban, admitted, its mutes and forbids. */
  admission(identity: string): Promise<Admission>;
  /** The identity is in: lock and lobby let it back in. */
  admitted(identity: string): Promise<void>;
  /** The identity unmuted `source` itself, as the policy lets it. */
  clearMuted(identity: string, source: Source): Promise<void>;
}

/** What a participant asks of the room's rules before it publishes or unmutes. */
export interface PublishRules {
  /** Throws FORBIDDEN when the policies or a moderator forbid it. `live`: it starts unpaused. */
  assertMayProduce(participant: Participant, source: Source, live: boolean): void;
  assertMayUnmute(participant: Participant, source: Source): void;
  /** It unmuted (or published live) `source`: a moderator's mute of it is over. */
  unmuted(participant: Participant, source: Source): void;
}

interface Restrictions {
  forbidden: Set<Source>;
  muted: Set<Source>;
}

export interface RoomRulesOptions {
  local: LocalRoster;
  link: () => RulesLink | undefined;
  onError: (error: unknown, what: string) => void;
}

const STANDALONE: Admission = {
  settings: DEFAULT_SETTINGS,
  banned: false,
  admitted: true,
  forbidden: [],
  muted: [],
};

/**
 * The room's moderation rules on this edge: its settings (lock and policies, loaded when
 * the room attaches and followed by the control plane's events), who may join (bans and
 * the lock, from the directory at each join), and what the moderators muted or forbade
 * each local participant to unmute; and the moderators' effects on the participants
 * here (a mute pauses the producer at the server; a screen's mute closes it). Moderators
 * are never held to a policy, a mute or a forbid: they may always unmute themselves.
 */
export class RoomRules implements PublishRules {
  readonly #options: RoomRulesOptions;
  #settings: RoomSettings = DEFAULT_SETTINGS;
  /** Local participants' mutes and forbids, by participant id. */
  readonly #restrictions = new Map<string, Restrictions>();

  constructor(options: RoomRulesOptions) {
    this.#options = options;
  }

  get settings(): RoomSettings {
    return this.#settings;
  }

  /** The room attached to the mesh: its settings as the directory has them. */
  attached(settings: RoomSettings): void {
    this.#settings = settings;
  }

  /** What decides this join (fresh from the directory), or the refusal it gets (bans, lock). */
  async admission(claims: JoinClaims): Promise<Admission> {
    const link = this.#options.link();
    if (!link) return STANDALONE;
    const admission = await link.admission(claims.sub).catch((error: unknown) => {
      throw new KaskadeError('UNAVAILABLE', 'the room state cannot be read now; retry', { cause: error });
    });
    this.#settings = admission.settings;
    const refusal = refusalOf(admission, claims.grants.moderate === true);
    if (refusal) throw refusal;
    return admission;
  }

  /**
   * A participant joined with its admission: its mutes and forbids follow it here. In a
   * locked room or one with a lobby its identity is admitted from now on (a reconnect or
   * a migration passes); a room without either keeps no state for it (the control plane
   * admits everyone present when it locks the room or opens its lobby).
   */
  joined(participant: Participant, admission: Admission): void {
    this.#restrictions.set(participant.id, {
      forbidden: new Set(admission.forbidden),
      muted: new Set(admission.muted),
    });
    const { locked, policies } = this.#settings;
    if (admission.admitted || !(locked || policies.lobby)) return;
    const link = this.#options.link();
    link?.admitted(participant.identity).catch((error: unknown) => this.#options.onError(error, 'admitted'));
  }

  left(participantId: string): void {
    this.#restrictions.delete(participantId);
  }

  /** The sources a participant may not unmute now (the join answer's `forbidden`). */
  forbiddenFor(participant: Participant): Source[] {
    if (participant.grants.moderate) return [];
    const r = this.#restrictions.get(participant.id);
    if (!r) return [];
    const held = new Set(r.forbidden);
    if (!this.#settings.policies.selfUnmute) for (const source of r.muted) held.add(source);
    return [...held];
  }

  assertMayProduce(participant: Participant, source: Source, live: boolean): void {
    if (participant.grants.moderate) return;
    const { video, screen } = this.#settings.policies;
    const policy = source === 'camera' ? video : source.startsWith('screen') ? screen : 'everyone';
    if (policy === 'moderators')
      throw new KaskadeError('FORBIDDEN', `only moderators publish ${source} here`);
    if (live) this.assertMayUnmute(participant, source);
  }

  assertMayUnmute(participant: Participant, source: Source): void {
    if (this.forbiddenFor(participant).includes(source))
      throw new KaskadeError('FORBIDDEN', `a moderator muted your ${source}; wait until asked to unmute`);
  }

  unmuted(participant: Participant, source: Source): void {
    const r = this.#restrictions.get(participant.id);
    if (!r?.muted.delete(source)) return;
    this.#options
      .link()
      ?.clearMuted(participant.identity, source)
      .catch((error: unknown) => this.#options.onError(error, 'clearMuted'));
  }

  // --- The control plane's effects on the participants here -------------------

  /** A moderator muted `source` of a participant (applied where it is hosted). */
  mute(participantId: string, source: Source, forbid: boolean): void {
    const participant = this.#options.local.get(participantId);
    if (participant) this.#mute(participant, source, forbid);
  }

  /** A moderator muted everyone's `source`, moderators excepted. */
  muteEveryone(source: Source, forbid: boolean): void {
    for (const participant of this.#options.local.values())
      if (!participant.grants.moderate) this.#mute(participant, source, forbid);
  }

  /** A moderator lifted a mute and forbid and asks the participant to unmute. */
  askToUnmute(participantId: string, source: Source): void {
    const participant = this.#options.local.get(participantId);
    if (!participant) return;
    const r = this.#restrictions.get(participantId);
    r?.forbidden.delete(source);
    r?.muted.delete(source);
    participant.notify('unmuteRequested', { source });
  }

  /** A moderator removed a participant here: it is told why, then its session closes. */
  remove(participantId: string, reason: string, banned: boolean): void {
    const participant = this.#options.local.get(participantId);
    if (!participant) return;
    participant.notify('removedFromRoom', { reason, banned });
    participant.close('removed');
  }

  /** A moderator ended the meeting: everyone here is told, then closed. */
  endMeeting(): void {
    for (const participant of [...this.#options.local.values()]) {
      participant.notify('meetingEnded', {});
      participant.close('ended');
    }
  }

  settingsChanged(settings: RoomSettings): void {
    this.#settings = settings;
    this.#options.local.notifyAll('settingsChanged', settings);
  }

  #mute(participant: Participant, source: Source, forbid: boolean): void {
    const r = this.#restrictions.get(participant.id) ?? { forbidden: new Set(), muted: new Set() };
    this.#restrictions.set(participant.id, r);
    r.muted.add(source);
    if (forbid) r.forbidden.add(source);
    participant.muteSource(source).catch((error: unknown) => this.#options.onError(error, 'mute'));
    participant.notify('mutedByModerator', { source, forbidUnmute: forbid });
  }
}
