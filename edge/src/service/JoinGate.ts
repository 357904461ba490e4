import { CloseCodes, type JoinClaims, KaskadeError } from '@kaskade/protocol';
import type { Room } from '../rtc/Room.ts';
import { toKaskadeError } from './errors.ts';
import type { SessionContext } from './SignalingSession.ts';

/** What the gate needs of the session whose join it checks. */
export interface JoinGateOptions {
  context: SessionContext;
  /** Aborted when the socket closes: a join waiting in the lobby gives up. */
  signal: AbortSignal;
  /** Throws INVALID_STATE (counted) once the socket has closed. */
  assertConnected(): void;
  close(code: number, reason: string): void;
  /** Tells the waiting client its place in the lobby, before its join is answered. */
  tellPosition(position: number): void;
  /** A join waiting in the lobby does not time out. */
  stopJoinTimer(): void;
}

/**
 * The way into a room for one socket's join: the token (bound to this edge and used once
 * in a mesh), then the room's rules (a ban or the lock refuse it) and, in a room with a
 * lobby, the wait for a moderator's decision. A refusal is answered first, then the
 * socket closes, so the client learns why.
 */
export class JoinGate {
  readonly #options: JoinGateOptions;

  constructor(options: JoinGateOptions) {
    this.#options = options;
  }

  /** The token's claims, or (counted, answered, then the socket closed with 4401) why not. */
  async verify(token: string): Promise<JoinClaims> {
    const { context, close } = this.#options;
    try {
      const claims = await context.verifier.verify(token);
      const { nodeId, useTokenOnce } = context;
      if (claims.node && claims.node !== nodeId) {
        throw new KaskadeError('UNAUTHORIZED', `this token is for edge ${claims.node}`);
      }
      if (useTokenOnce) {
        // In a mesh only the control plane's edge tokens get in: bound to this node, used once.
        if (!claims.node) throw new KaskadeError('UNAUTHORIZED', 'this edge takes edge tokens only');
        if (!claims.jti) throw new KaskadeError('UNAUTHORIZED', 'the token has no jti');
        const first = await useTokenOnce(claims.jti, claims.exp).catch((error: unknown) => {
          throw new KaskadeError('UNAVAILABLE', 'the token cannot be checked now; retry', { cause: error });
        });
        if (!first) throw new KaskadeError('UNAUTHORIZED', 'the token was used already');
      }
      return claims;
    } catch (error) {
      const failure = toKaskadeError(error);
      context.metrics.joinFailed(failure.code);
      // Answer first, then close: the client learns why. A directory outage is not the token's fault.
      if (failure.code === 'UNAUTHORIZED') setImmediate(() => close(CloseCodes.unauthorized, 'unauthorized'));
      throw failure;
    }
  }

  /**
   * The room's rules on this join (a ban or the lock refuse it); in a room with a lobby, a
   * join not admitted before waits here, its answer held and its join timer stopped, told
   * its place (lobbyWaiting) until a moderator decides. Refused from the lobby, the socket
   * closes once the refusal is answered. Answers the id the join goes on under.
   */
  async admit(room: Room, claims: JoinClaims, resume: string | undefined) {
    const { context, assertConnected } = this.#options;
    const admission = await room.rules.admission(claims);
    assertConnected();
    if (!room.lobby.mustWait(admission, claims)) return { admission, resume };
    this.#options.stopJoinTimer();
    try {
      const waited = await room.lobby.wait(claims, {
        position: (position) => this.#options.tellPosition(position),
        signal: this.#options.signal,
        maxWaitMs: context.lobbyWaitMaxMs,
      });
      assertConnected();
      return { admission: await room.rules.admission(claims), resume: waited };
    } catch (error) {
      if (toKaskadeError(error).code === 'FORBIDDEN')
        setImmediate(() => this.#options.close(CloseCodes.removed, 'refused entry'));
      throw error;
    }
  }
}
