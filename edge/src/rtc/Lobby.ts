import { randomUUID } from 'node:crypto';
import type { Admission, WaitingEntry } from '@kaskade/directory';
import { refusalOf, waitsInLobby } from '@kaskade/directory';
import { type JoinClaims, KaskadeError, type LobbyEntry } from '@kaskade/protocol';
import type { LocalRoster } from './LocalRoster.ts';

/** What the lobby reads and writes of the room's queue in the directory, and tells the other nodes. */
export interface LobbyLink {
  /** Puts a join in the queue on this node (an identity queued already keeps its place and id); null: full. */
  enqueue(entry: LobbyEntry): Promise<{ entry: WaitingEntry; position: number } | null>;
  leaveLobby(identity: string, participantId: string): Promise<void>;
  lobby(): Promise<WaitingEntry[]>;
  admission(identity: string): Promise<Admission>;
  /** The queue changed here: every node's moderators should hear it (a nudge, no data). */
  lobbyChanged(): void;
}

export interface LobbyOptions {
  local: LocalRoster;
  link: () => LobbyLink | undefined;
  /** Someone stopped waiting: the room may be idle now. */
  onLeft: () => void;
  onError: (error: unknown, what: string) => void;
}

export interface WaitOptions {
  /** Tells the waiting client its place (on arrival and whenever it changes). */
  position: (position: number) => void;
  /** Aborted when the waiting client goes away. */
  signal: AbortSignal;
  maxWaitMs: number;
}

/** How often a waiter reads the directory again (a decision whose event its edge missed). */
const RECHECK_MS = 2000;

interface Waiter {
  entry: WaitingEntry;
  position: number;
  decide(outcome: { admitted: true } | { admitted: false; error: KaskadeError }): void;
}

/**
 * The joins waiting in this edge for a moderator to let them in. The queue itself is in
 * the directory, by identity (a waiter whose edge restarts and comes back through another
 * keeps its place); this holds the local waiters, settles them when the control plane's
 * decision arrives (or when a read of the directory every few seconds finds it), and
 * tells this node's moderators when the queue changed.
 */
export class Lobby {
  readonly #options: LobbyOptions;
  readonly #waiters = new Map<string, Waiter>();

  constructor(options: LobbyOptions) {
    this.#options = options;
  }

  /** Joins waiting here now: the room is not idle while one is. */
  get size(): number {
    return this.#waiters.size;
  }

  mustWait(admission: Admission, claims: JoinClaims): boolean {
    return this.#options.link() !== undefined && waitsInLobby(admission, claims.grants.moderate === true);
  }

  /**
   * Waits until a moderator admits the join; answers the participant id it joins under
   * (the one its queue entry has). Refused FORBIDDEN when denied, banned or locked out,
   * UNAVAILABLE when the wait outlasts its bound or the lobby is full.
   */
  async wait(claims: JoinClaims, { position, signal, maxWaitMs }: WaitOptions): Promise<string> {
    const link = this.#options.link();
    if (!link) throw new KaskadeError('INVALID_STATE', 'no lobby on a standalone edge');
    const queued = await link.enqueue({
      participantId: randomUUID(),
      identity: claims.sub,
      name: claims.name,
      since: Date.now(),
    });
    if (!queued) throw new KaskadeError('UNAVAILABLE', 'the lobby is full; try again later');
    const { entry } = queued;
    this.#waiters.get(entry.identity)?.decide({
      admitted: false,
      error: new KaskadeError('CONFLICT', 'the same identity waits in the lobby again'),
    });
    link.lobbyChanged();
    void this.tellModerators();
    position(queued.position);
    let timer: NodeJS.Timeout | undefined;
    let recheck: NodeJS.Timeout | undefined;
    let onAbort = () => {};
    try {
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          entry,
          position: queued.position,
          decide: (outcome) => (outcome.admitted ? resolve() : reject(outcome.error)),
        };
        this.#waiters.set(entry.identity, waiter);
        onAbort = () => reject(new KaskadeError('INVALID_STATE', 'the socket closed in the lobby'));
        signal.addEventListener('abort', onAbort, { once: true });
        if (signal.aborted) onAbort();
        timer = setTimeout(
          () => reject(new KaskadeError('UNAVAILABLE', 'nobody admitted the join in time')),
          maxWaitMs,
        );
        recheck = setInterval(() => void this.#recheck(waiter, position), RECHECK_MS);
      });
      // Admitted by a moderator (the entry went with the decision) or by a lobby turned off.
      await this.#leave(entry).catch((err: unknown) => this.#options.onError(err, 'leaveLobby'));
      return entry.participantId;
    } catch (error) {
      // Given up or refused: out of the queue (a decision took it out already; harmless then).
      if (!(error instanceof KaskadeError && error.code === 'CONFLICT'))
        await this.#leave(entry).catch((err: unknown) => this.#options.onError(err, 'leaveLobby'));
      throw error;
    } finally {
      clearTimeout(timer);
      clearInterval(recheck);
      signal.removeEventListener('abort', onAbort);
      if (this.#waiters.get(entry.identity)?.entry === entry) this.#waiters.delete(entry.identity);
      this.#options.onLeft();
    }
  }

  /** The control plane admitted a waiter. */
  admitted(identity: string, participantId: string): void {
    this.#waiterFor(identity, participantId)?.decide({ admitted: true });
  }

  /** The control plane refused a waiter. */
  denied(identity: string, participantId: string, reason: string): void {
    const message = reason ? `a moderator refused the join: ${reason}` : 'a moderator refused the join';
    this.#waiterFor(identity, participantId)?.decide({
      admitted: false,
      error: new KaskadeError('FORBIDDEN', message),
    });
  }

  /** The room's settings changed: a lobby turned off (or a ban) settles the waiters now. */
  settingsChanged(): void {
    for (const waiter of this.#waiters.values()) void this.#recheck(waiter, () => {});
  }

  /** This node's moderators hear the queue as the directory has it now. */
  async tellModerators(): Promise<void> {
    const link = this.#options.link();
    const moderators = [...this.#options.local.values()].filter((p) => p.grants.moderate);
    if (!link || moderators.length === 0) return;
    try {
      const waiting = await this.list();
      for (const moderator of moderators) moderator.notify('lobbyChanged', { waiting });
    } catch (error) {
      this.#options.onError(error, 'lobby');
    }
  }

  /** The queue, first come first, as clients see it (without the nodes). */
  async list(): Promise<LobbyEntry[]> {
    const link = this.#options.link();
    if (!link) return [];
    return (await link.lobby()).map(({ participantId, identity, name, since }) => ({
      participantId,
      identity,
      name,
      since,
    }));
  }

  /** The room closes: nobody waits any more. */
  close(): void {
    for (const waiter of [...this.#waiters.values()])
      waiter.decide({
        admitted: false,
        error: new KaskadeError('UNAVAILABLE', 'the room closed; join again'),
      });
  }

  #waiterFor(identity: string, participantId: string): Waiter | undefined {
    const waiter = this.#waiters.get(identity);
    return waiter?.entry.participantId === participantId ? waiter : undefined;
  }

  async #leave(entry: WaitingEntry): Promise<void> {
    const link = this.#options.link();
    if (!link) return;
    await link.leaveLobby(entry.identity, entry.participantId);
    link.lobbyChanged();
    void this.tellModerators();
  }

  /** Reads the directory for a decision this waiter's edge may have missed. */
  async #recheck(waiter: Waiter, position: (position: number) => void): Promise<void> {
    const link = this.#options.link();
    if (!link) return;
    try {
      const [admission, queue] = await Promise.all([link.admission(waiter.entry.identity), link.lobby()]);
      const place = queue.findIndex((e) => e.identity === waiter.entry.identity) + 1;
      const refusal = refusalOf(admission, false);
      if (refusal) {
        waiter.decide({ admitted: false, error: refusal });
      } else if (admission.admitted || !admission.settings.policies.lobby) {
        waiter.decide({ admitted: true });
      } else if (place === 0) {
        waiter.decide({
          admitted: false,
          error: new KaskadeError('FORBIDDEN', 'a moderator refused the join'),
        });
      } else if (place !== waiter.position) {
        waiter.position = place;
        position(place);
      }
    } catch (error) {
      this.#options.onError(error, 'lobby recheck');
    }
  }
}
