import { CloseCodes } from '@kaskade/protocol/browser';
import type { JoinTicket } from './types.ts';

/**
 * Pure rules of getting back into the room after losing the edge: which closes are final,
 * which mean the edge is gone (to be avoided on the way back), how long to wait between
 * attempts. Room's reconnect loop applies them.
 */

// A refused token or misuse before the join would fail again just the same.
const FINAL_CLOSE_CODES = new Set<number>([
  CloseCodes.unauthorized,
  CloseCodes.replaced,
  CloseCodes.normal,
  CloseCodes.tooManyBeforeJoin,
]);

/**
 * Closes that say the edge itself went away, not the session: no close frame at all (1006:
 * the process died or the network between us did), going away (1001: shutting down or
 * draining), or a server error or restart (1011, 1012). The client goes elsewhere first.
 */
const EDGE_GONE_CODES = new Set<number>([1001, 1006, 1011, 1012]);

export function isFinalClose(code: number): boolean {
  return FINAL_CLOSE_CODES.has(code);
}

export function edgeGone(code: number): boolean {
  return EDGE_GONE_CODES.has(code);
}

/** Wait before reconnect attempt `attempt` + 1 (1-based): 250 ms doubling, at most 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(250 * 2 ** (attempt - 1), 5000);
}

/** A token, or a ticket, as a ticket: a bare token goes to the configured URL. */
export function asTicket(given: string | JoinTicket, url: string | undefined): JoinTicket {
  if (typeof given !== 'string') return given;
  if (!url) throw new Error('Room.connect needs a url, or a token provider that returns tickets');
  return { url, token: given };
}

/**
 * Edges a client could not reach during one recovery, newest last, bounded as the control
 * plane's join bounds `avoid` (the protocol's HTTP_JOIN_MAX_AVOID, which the bundle cannot
 * import with its schema; a unit test keeps the two equal): a long outage keeps the latest.
 */
export class UnreachableEdges {
  static readonly LIMIT = 8;
  readonly #nodes: string[] = [];

  add(node: string | undefined): void {
    if (node === undefined) return;
    const at = this.#nodes.indexOf(node);
    if (at >= 0) this.#nodes.splice(at, 1);
    this.#nodes.push(node);
    if (this.#nodes.length > UnreachableEdges.LIMIT) this.#nodes.shift();
  }

  /** Back in: the next outage starts from nothing (a dead edge is declared dead by then). */
  clear(): void {
    this.#nodes.length = 0;
  }

  list(): string[] {
    return [...this.#nodes];
  }
}
