import type { HandInfo, ResponseData, Role } from '@kaskade/protocol';
import type { EdgeSession } from './EdgeSession.ts';
import type { SignalingChannel } from './SignalingChannel.ts';

/**
 * The stage and its hands: asking to speak, and what moderators do about it. Requests go
 * to the session that speaks for the room now (the edge checks the grants); the answers
 * (roleChanged, handRaised, handLowered) arrive as the room's notifications.
 */
export class Moderation {
  readonly #current: () => EdgeSession | undefined;

  /** `current`: the session that speaks for the room now. */
  constructor(current: () => EdgeSession | undefined) {
    this.#current = current;
  }

  async raiseHand(): Promise<void> {
    await this.#channel.request('raiseHand', {});
  }

  async lowerHand(participantId?: string): Promise<void> {
    await this.#channel.request('lowerHand', participantId ? { participantId } : {});
  }

  async listHands(): Promise<HandInfo[]> {
    return (await this.#channel.request('listHands', {})).hands;
  }

  async setRole(participantId: string, role: Role): Promise<void> {
    await this.#channel.request('setRole', { participantId, role });
  }

  listParticipants(after?: string, limit?: number): Promise<ResponseData<'listParticipants'>> {
    return this.#channel.request('listParticipants', { after, limit });
  }

  get #channel(): SignalingChannel {
    const session = this.#current();
    if (!session) throw new Error('not connected');
    return session.channel;
  }
}
