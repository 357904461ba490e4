import { randomUUID } from 'node:crypto';
import type { LocalRoster } from './LocalRoster.ts';

/** What the handover asks of the mesh. */
export interface HandoverLink {
  /**
   * Whether a participant coming back (`join.resume`) may keep its id: the directory
   * still gives the identity (from the verified token) to that participant id.
   */
  mayResume(identity: string, participantId: string): Promise<boolean>;
}

export interface HandoverOptions {
  local: LocalRoster;
  link: () => HandoverLink | undefined;
}

/**
 * One session per identity in the room: a join with the identity of a participant here
 * replaces that session, and one coming back (`resume`, after a reconnect or a
 * migration) carries on under its old id when that id is still its own. The room asks
 * here which id a joiner gets, and whether a session that ends was handed over.
 */
export class Handover {
  readonly #options: HandoverOptions;
  /** Local participants being replaced by a session of the same id (a resume on this node). */
  readonly #handedOver = new Set<string>();

  constructor(options: HandoverOptions) {
    this.#options = options;
  }

  /**
   * The id a joining participant gets, and the session of its identity here closed
   * ('replaced'). The id is the one it asks to resume when that is still its own (the
   * session it replaces here has it, or the mesh's directory gives the token's identity
   * to it), else a fresh one. The identity is the verified token's, never the client's
   * word; an id held here by someone else is never handed out.
   */
  async admit(identity: string, resume: string | undefined): Promise<string> {
    const id = await this.#idFor(identity, resume);
    const previous = this.#options.local.withIdentity(identity);
    if (previous?.id === id) this.#handedOver.add(id);
    previous?.close('replaced');
    return id;
  }

  /** The newcomer with `id` is in: answers whether it took over a session here (and forgets that). */
  tookOver(id: string): boolean {
    return this.#handedOver.delete(id);
  }

  /** Whether the session with `id` that ends now is being replaced by its own resumed one. */
  isHandedOver(id: string): boolean {
    return this.#handedOver.has(id);
  }

  async #idFor(identity: string, resume: string | undefined): Promise<string> {
    if (resume === undefined) return randomUUID();
    const holder = this.#options.local.get(resume);
    if (holder) return holder.identity === identity ? resume : randomUUID();
    const link = this.#options.link();
    if (link && (await link.mayResume(identity, resume))) return resume;
    return randomUUID();
  }
}
