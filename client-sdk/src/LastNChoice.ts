import { MAX_PINNED } from '@kaskade/protocol/browser';
import type { EdgeSession } from './EdgeSession.ts';

/**
 * This client's last-N choice: how many remote cameras it wants forwarded and whom it
 * pins. The edge takes both in one `setLastN` request, so they are kept together and sent
 * together: on every change, and again to each new session (a reconnect or a migration
 * lands on an edge that knows nothing of it). Until `n` is first set nothing is sent and
 * the edge forwards every video; pins made before that wait for it.
 */
export class LastNChoice {
  readonly #current: () => EdgeSession | undefined;
  /** What the application asked for; null until it first does. */
  #wanted: number | null = null;
  /** What the edge put in force (the wanted n, capped at its maximum). */
  #inForce: number | null = null;
  #pinned: string[] = [];

  constructor(current: () => EdgeSession | undefined) {
    this.#current = current;
  }

  get n(): number | null {
    return this.#inForce;
  }

  get pinned(): readonly string[] {
    return this.#pinned;
  }

  async set(n: number): Promise<number> {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`last-N must be a whole number >= 0, not ${n}`);
    this.#wanted = n;
    await this.#send(this.#current());
    return this.#inForce ?? n;
  }

  async pin(participantId: string): Promise<void> {
    if (this.#pinned.includes(participantId)) return;
    if (this.#pinned.length >= MAX_PINNED)
      throw new RangeError(`at most ${MAX_PINNED} participants may be pinned`);
    this.#pinned = [...this.#pinned, participantId];
    await this.#send(this.#current());
  }

  async unpin(participantId: string): Promise<void> {
    if (!this.#pinned.includes(participantId)) return;
    this.#pinned = this.#pinned.filter((id) => id !== participantId);
    await this.#send(this.#current());
  }

  /** A new session speaks for the room: it gets the choice before it subscribes. */
  async resend(session: EdgeSession): Promise<void> {
    try {
      await this.#send(session);
    } catch (error) {
      // The join goes on with every video forwarded; the next change sends the choice again.
      console.warn('kaskade: setLastN failed', error);
    }
  }

  async #send(session: EdgeSession | undefined): Promise<void> {
    // No session open (reconnecting): the next one gets the choice when it joins.
    if (this.#wanted === null || !session?.channel.open) return;
    const { n } = await session.channel.request('setLastN', { n: this.#wanted, pinned: this.#pinned });
    if (session === this.#current()) this.#inForce = n;
  }
}
