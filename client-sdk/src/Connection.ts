import type { NotificationData, ResponseData } from '@kaskade/protocol';
import { Device } from 'mediasoup-client';
import { EdgeSession } from './EdgeSession.ts';
import { asTicket, backoffMs, edgeGone, isFinalClose, UnreachableEdges } from './recovery.ts';
import type { ConnectionState, ConnectOptions, JoinTicket, RoomEvents } from './types.ts';

/**
 * How long a migrating client keeps publishing on both edges once its own side is set up,
 * so that the others' switches to its new streams (a key frame to decode, which Firefox may
 * take a second to send) complete before its old streams end.
 */
const MIGRATION_OVERLAP_MS = 2500;

export type ConnectionOptions = Pick<ConnectOptions, 'token' | 'url' | 'onLobby'> &
  Required<Pick<ConnectOptions, 'forceTcp' | 'reconnectTimeoutMs'>>;

/** What the connection needs of its room. */
export interface ConnectionHost {
  /** Our participant id once joined: a session joining again resumes it. */
  selfId(): string | undefined;
  /** A fresh session, before its join: route its notifications (none may be missed). */
  wire(session: EdgeSession): void;
  /**
   * The session joined and speaks for the room now: take over its picture of the room
   * (synchronously, before the first await), then publish and subscribe there. A rejection
   * fails the attempt.
   */
  adopt(session: EdgeSession, joined: ResponseData<'join'>): Promise<void>;
  /** The room is closed for good: let go of the remote tracks. */
  ended(): void;
  /** The room's events (the connection raises connectionStateChanged, reconnecting, reconnected, migrated, roomSwitched, disconnected). */
  emit<E extends keyof RoomEvents>(event: E, ...args: RoomEvents[E]): void;
}

/**
 * The room's way into the room: which EdgeSession speaks for it, and how it gets another.
 * The first join; a migration when the edge drains (open a second session, switch, close
 * the first); a reconnect loop when the session is lost (placed again through the ticket
 * provider, avoiding the edges lost meanwhile). It owns the connection state.
 */
export class Connection {
  readonly #host: ConnectionHost;
  readonly #options: ConnectionOptions;
  readonly #device = new Device();
  /** Edges lost during the current recovery: the ticket provider is asked to avoid them. */
  readonly #unreachable = new UnreachableEdges();
  /** The session that speaks for the room now; during a migration the old one only winds down. */
  #session: EdgeSession | undefined;
  #state: ConnectionState = 'connecting';
  #leaving = false;
  /** A migration or a room switch is under way: one move at a time. */
  #migrating = false;
  /** The reconnect loop runs: it handles the failures of the sessions it opens itself. */
  #recovering = false;

  constructor(host: ConnectionHost, options: ConnectionOptions) {
    this.#host = host;
    this.#options = options;
  }

  get session(): EdgeSession | undefined {
    return this.#session;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The first join (rejects when it fails: nobody retries a room that was never in). */
  async open(): Promise<void> {
    await this.#establish();
    this.#setState('connected');
  }

  async leave(): Promise<void> {
    if (this.#leaving) return;
    this.#leaving = true;
    await this.#session?.leave();
    this.#end('left');
  }

  /**
   * The room ended for us on the server's word (removed, the meeting ended): no reconnect.
   * The edge closes the socket itself; closing it here too changes nothing.
   */
  finish(reason: string): void {
    if (this.#leaving || this.#state === 'closed') return;
    this.#leaving = true;
    this.#session?.close();
    this.#end(reason);
  }

  /** Drops the signaling socket as a network failure would. */
  dropSignaling(): void {
    this.#session?.channel.close(4000, 'simulated drop');
  }

  async #ticket(): Promise<JoinTicket> {
    const { token, url } = this.#options;
    const given = typeof token === 'function' ? await token({ avoid: this.#unreachable.list() }) : token;
    return asTicket(given, url);
  }

  /**
   * Opens a session and joins the room through it (with our id when coming back, so the
   * others see the same participant carry on), then makes it the room's session: publishes
   * there and switches every remote track into it. A failed attempt closes its session.
   */
  async #establish(ticket?: JoinTicket, { anotherRoom = false } = {}): Promise<void> {
    const target = ticket ?? (await this.#ticket());
    let session: EdgeSession;
    try {
      session = await EdgeSession.open(target, this.#device, this.#options.forceTcp);
    } catch (error) {
      this.#unreachable.add(target.node);
      throw error;
    }
    this.#host.wire(session);
    session.channel.on('migrate', (notice) => void this.#migrate(session, notice));
    session.channel.on('moveToRoom', (move) => void this.#switchRoom(session, move));
    session.channel.on('close', (code, reason) => this.#onClosed(session, code, reason));
    try {
      // Into another room we are someone new there: nobody resumes across rooms.
      const resume = anotherRoom ? undefined : this.#host.selfId();
      const joined = await session.join(
        { token: target.token, reconnect: this.#state === 'reconnecting', ...(resume ? { resume } : {}) },
        this.#options.onLobby,
      );
      // From here on this session speaks for the room (the host takes over synchronously).
      this.#session = session;
      await this.#host.adopt(session, joined);
      this.#unreachable.clear();
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /**
   * The edge drains: join the room at the edge it names (with our id), publish and
   * subscribe there, switching every RemoteTrack inside itself, keep publishing on both
   * for a moment so the others switch to our new streams, then leave the old edge.
   */
  async #migrate(
    from: EdgeSession,
    { url, token, deadlineMs }: { url: string; token: string; deadlineMs: number },
  ): Promise<void> {
    if (this.#migrating || from !== this.#session) return;
    this.#migrating = true;
    const deadline = Date.now() + deadlineMs;
    try {
      await this.#establish({ url, token });
    } catch (error) {
      // Stay where we are: at the deadline the old edge closes us and we reconnect as after a crash.
      if (!from.closed) this.#session = from;
      this.#migrating = false;
      console.warn('kaskade: migration failed; staying until the edge closes', error);
      return;
    }
    const overlap = Math.max(0, Math.min(MIGRATION_OVERLAP_MS, deadline - Date.now()));
    await new Promise((r) => setTimeout(r, overlap));
    await from.leave();
    this.#migrating = false;
    this.#host.emit('migrated');
  }

  /**
   * Another room (a breakout, or back to the main room): join it at the edge and with the
   * ticket the edge gave, as someone new there; publish and subscribe there (the host
   * takes over the new room's picture: those of the old room leave, the new room's join,
   * tracks likewise), THEN leave the old session. A failed switch stays where it is.
   */
  async #switchRoom(from: EdgeSession, { room, url, token }: NotificationData<'moveToRoom'>): Promise<void> {
    if (this.#migrating || from !== this.#session || this.#leaving) return;
    this.#migrating = true;
    try {
      await this.#establish({ url, token }, { anotherRoom: true });
    } catch (error) {
      if (!from.closed) this.#session = from;
      console.warn(`kaskade: could not switch to room ${room}; staying`, error);
      return;
    } finally {
      this.#migrating = false;
    }
    await from.leave();
    this.#host.emit('roomSwitched', room);
  }

  #onClosed(session: EdgeSession, code: number, reason: string): void {
    if (session !== this.#session || this.#leaving || this.#recovering || this.#state === 'closed') return;
    // Its edge went away (crashed, drained past its deadline): the way back avoids it.
    if (edgeGone(code)) this.#unreachable.add(session.node);
    session.close();
    if (isFinalClose(code)) this.#end(reason || `closed (${code})`);
    else void this.#reconnect(reason || `signaling closed (${code})`);
  }

  /**
   * Back into the room through the ticket provider (the control plane places us on a live
   * edge, avoiding those we lost), keeping our participant id; the remote tracks stay and
   * their media switches into them, our publications are produced again.
   */
  async #reconnect(reason: string): Promise<void> {
    this.#recovering = true;
    this.#setState('reconnecting');
    const deadline = Date.now() + this.#options.reconnectTimeoutMs;
    try {
      for (let attempt = 1; Date.now() < deadline && !this.#leaving; attempt++) {
        this.#host.emit('reconnecting', attempt, reason);
        try {
          await this.#establish();
          this.#setState('connected');
          this.#host.emit('reconnected');
          return;
        } catch (error) {
          reason = error instanceof Error ? error.message : String(error);
          await new Promise((r) => setTimeout(r, backoffMs(attempt)));
        }
      }
      if (this.#leaving) return;
      this.#end(`reconnect gave up: ${reason}`);
    } finally {
      this.#recovering = false;
    }
  }

  /** Closed for good: left, refused, replaced, or given up. */
  #end(reason: string): void {
    this.#host.ended();
    this.#setState('closed');
    this.#host.emit('disconnected', reason);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#host.emit('connectionStateChanged', state);
  }
}
