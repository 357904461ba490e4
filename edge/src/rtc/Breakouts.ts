import type { BreakoutState, MoveReason } from '@kaskade/protocol';
import { KaskadeError, NO_BREAKOUTS } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { LocalRoster } from './LocalRoster.ts';
import type { Participant } from './Participant.ts';

/** What the breakouts of a room ask of the mesh (the routing layer implements it, for that room). */
export interface BreakoutLink {
  /** The main room this room belongs to (itself when it is nobody's breakout) and that room's plan, from the directory. */
  breakoutPlan(): Promise<{ main: string; state: BreakoutState }>;
  /** A ticket into room `target` for a participant here (ControlRpc breakout.place). */
  breakoutTicket(participant: Participant, target: string): Promise<{ url: string; token: string }>;
  /** Tells the nodes carrying main room `main` that a participant here (in a breakout of it) asks for help. */
  askForHelp(main: string, participantId: string): void;
  /**
   * The name of a participant who asks for help from breakout `fromRoom`, when the directory
   * has it on node `sender` and `fromRoom` is a breakout of `main`; else null (not believed).
   */
  helpAsker(main: string, fromRoom: string, participantId: string, sender: string): Promise<string | null>;
  /** The timer of `main`'s open breakouts ran out (ControlRpc breakout.due): true when they closed. */
  breakoutsDue(main: string): Promise<boolean>;
}

export interface BreakoutsOptions {
  room: string;
  local: LocalRoster;
  link: () => BreakoutLink | undefined;
  logger: Logger;
}

/** How long after a due timer the edge asks again while the plan is still open (clocks differ). */
const DUE_RETRY_MS = 1000;
/** One help request per participant in this time: the moderators are not flooded. */
export const HELP_COOLDOWN_MS = 5000;

/**
 * The breakout rooms as this room on this edge sees them: the plan of its main room
 * (itself, or the room it is a breakout of), told to the participants here as it changes
 * (a non-moderator sees only its own breakout room); moving the participants here the
 * control plane moves (a ticket from `breakout.place`, then `moveToRoom`), also those who
 * join the main room while the breakouts are open; the broadcasts; 'ask for help' both
 * ways; and the timer of open breakouts (every edge carrying one of the rooms holds it:
 * breakoutMoves.ts in the control plane says why).
 */
export class Breakouts {
  readonly #options: BreakoutsOptions;
  #main: string;
  #state: BreakoutState = NO_BREAKOUTS;
  #loaded: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  /** Participant id -> when it last asked for help (entries older than the cooldown are dropped). */
  readonly #askedAt = new Map<string, number>();
  #closed = false;

  constructor(options: BreakoutsOptions) {
    this.#options = options;
    this.#main = options.room;
  }

  /** Whether this room is a breakout of another (the room to go back to is `main`). */
  get isBreakout(): boolean {
    return this.#main !== this.#options.room;
  }

  get main(): string {
    return this.#main;
  }

  /** Reads the plan from the directory (the room just attached to the mesh). */
  load(): void {
    const link = this.#options.link();
    if (!link) return;
    this.#loaded = link.breakoutPlan().then(
      ({ main, state }) => {
        this.#main = main;
        this.#apply(state);
      },
      (err: unknown) => this.#options.logger.warn({ err }, 'breakout plan unreadable; events will bring it'),
    );
  }

  /** The plan as `participant` may see it. */
  async state(participant: Participant): Promise<BreakoutState> {
    await this.#loaded;
    return this.#viewFor(participant);
  }

  /** The control plane's new plan of main room `main` (this room, or the one this is a breakout of). */
  changed(main: string, state: BreakoutState): void {
    this.#main = main;
    this.#apply(state);
    for (const participant of this.#options.local.values())
      participant.notify('breakoutsChanged', this.#viewFor(participant));
  }

  /** The control plane moves these participants; those here get their ticket and `moveToRoom`. */
  move(moves: readonly { participantId: string; room: string; reason: MoveReason }[]): void {
    for (const { participantId, room, reason } of moves) {
      const participant = this.#options.local.get(participantId);
      if (participant) void this.#send(participant, room, reason);
    }
  }

  /**
   * Someone joined here: in the main room, one assigned to an open breakout goes on there;
   * in a breakout that closed while it was on its way (its ticket came before the close),
   * it goes back to the main room.
   */
  joined(participant: Participant): void {
    void this.#loaded.then(() => {
      if (participant.closed) return;
      if (this.isBreakout) {
        if (this.#state.status !== 'open') void this.#send(participant, this.#main, 'return');
        return;
      }
      if (this.#state.status !== 'open') return;
      const room = this.#state.rooms.find((r) => r.identities.includes(participant.identity));
      if (room) void this.#send(participant, room.room, 'breakout');
    });
  }

  /** A moderator's message to the breakouts, to everyone here. */
  broadcast(text: string): void {
    for (const participant of this.#options.local.values()) participant.notify('breakoutBroadcast', { text });
  }

  /** A participant here, in a breakout, asks its main room's moderators for help. */
  async askForHelp(participant: Participant): Promise<void> {
    await this.#loaded;
    const link = this.#options.link();
    if (!this.isBreakout || !link) throw new KaskadeError('INVALID_STATE', 'not in a breakout room');
    const now = Date.now();
    for (const [id, at] of this.#askedAt) if (now - at >= HELP_COOLDOWN_MS) this.#askedAt.delete(id);
    if (this.#askedAt.has(participant.id))
      throw new KaskadeError('RATE_LIMITED', 'help was asked for a moment ago; the moderators know');
    this.#askedAt.set(participant.id, now);
    link.askForHelp(this.#main, participant.id);
  }

  /** Node `sender` says its participant in breakout `fromRoom` asks for help: told to the moderators here, once the directory agrees. */
  helpAsked(participantId: string, fromRoom: string, sender: string): void {
    const link = this.#options.link();
    if (!link || this.isBreakout) return;
    void link.helpAsker(this.#options.room, fromRoom, participantId, sender).then(
      (name) => {
        if (name === null) return;
        for (const participant of this.#options.local.values())
          if (participant.grants.moderate)
            participant.notify('helpRequested', { room: fromRoom, participantId, name });
      },
      (err: unknown) => this.#options.logger.warn({ err }, 'help request not checked: directory unavailable'),
    );
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #apply(state: BreakoutState): void {
    this.#state = state;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (state.status === 'open' && state.endsAt !== null && !this.#closed)
      this.#arm(Math.max(0, state.endsAt - Date.now()));
  }

  #arm(delayMs: number): void {
    const endsAt = this.#state.endsAt;
    this.#timer = setTimeout(async () => {
      const link = this.#options.link();
      const closed = await link?.breakoutsDue(this.#main).catch((err: unknown) => {
        this.#options.logger.warn({ err }, 'breakout timer: the control plane did not answer');
        return false;
      });
      // Still open as this edge knows it (an early clock here, or no answer): ask again soon.
      if (!closed && !this.#closed && this.#state.status === 'open' && this.#state.endsAt === endsAt)
        this.#arm(DUE_RETRY_MS);
    }, delayMs);
  }

  #viewFor(participant: Participant): BreakoutState {
    if (participant.grants.moderate) return this.#state;
    return {
      ...this.#state,
      rooms: this.#state.rooms.filter((r) => r.identities.includes(participant.identity)),
    };
  }

  async #send(participant: Participant, room: string, reason: MoveReason): Promise<void> {
    const link = this.#options.link();
    if (!link) return;
    try {
      const { url, token } = await link.breakoutTicket(participant, room);
      if (!participant.closed) participant.notify('moveToRoom', { room, url, token, reason });
    } catch (err) {
      this.#options.logger.warn({ err, participant: participant.id, reason }, 'breakout move: no ticket');
    }
  }
}
