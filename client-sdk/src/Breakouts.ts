import type { BreakoutState, RequestData } from '@kaskade/protocol';
import type { SignalingChannel } from './SignalingChannel.ts';

/** One hand assignment: a participant (by its id in the main room) to a breakout room (its room name). */
export type BreakoutAssignment = Extract<
  RequestData<'assignBreakouts'>,
  { assignments: unknown }
>['assignments'][number];

/**
 * Breakout rooms, for moderators of the main room (the edge checks the grant; the control
 * plane executes): create them, assign people by hand or at random, open them (everyone
 * assigned moves there: the room emits `roomSwitched`), broadcast to them, close them
 * (everyone comes back). Anyone may read the state (a participant sees its own breakout).
 * Requests go to the session that speaks for the room now; changes arrive as the room's
 * `breakoutsChanged` events.
 */
export class Breakouts {
  readonly #channel: () => SignalingChannel;

  /**
   * `channel`: the channel of the session that speaks for the room now. A channel, not the
   * session: this class is public, and the session's type would put mediasoup-client's
   * transports into the published declarations.
   */
  constructor(channel: () => SignalingChannel) {
    this.#channel = channel;
  }

  /** Creates `count` breakout rooms (1..20), labelled `names` or "Room N"; replaces breakouts not yet opened. */
  async create(count: number, names?: string[]): Promise<BreakoutState> {
    return (await this.#channel().request('createBreakouts', names ? { count, names } : { count })).state;
  }

  /** Sends these participants to these breakout rooms (others keep their assignment). */
  async assign(assignments: BreakoutAssignment[]): Promise<BreakoutState> {
    return (await this.#channel().request('assignBreakouts', { assignments })).state;
  }

  /** Spreads everyone but the moderator who asks over the breakout rooms, evenly. */
  async assignRandomly(): Promise<BreakoutState> {
    return (await this.#channel().request('assignBreakouts', { random: true })).state;
  }

  /** Opens the breakouts (with a timer when `durationSeconds` is given: they close by themselves then). */
  async open(durationSeconds?: number): Promise<BreakoutState> {
    const params = durationSeconds === undefined ? {} : { durationSeconds };
    return (await this.#channel().request('openBreakouts', params)).state;
  }

  /** A message to everyone in every breakout room (their rooms emit `breakoutBroadcast`). */
  async broadcast(text: string): Promise<void> {
    await this.#channel().request('broadcastToBreakouts', { text });
  }

  /** Closes the breakouts: everyone in them comes back to the main room. */
  async close(): Promise<void> {
    await this.#channel().request('closeBreakouts', {});
  }

  /** The breakouts of this room's main room, as this participant may see them. */
  state(): Promise<BreakoutState> {
    return this.#channel().request('breakoutState', {});
  }

  /** From inside a breakout room: the main room's moderators get `helpRequested`. */
  async askForHelp(): Promise<void> {
    await this.#channel().request('askForHelp', {});
  }
}
