import { SIGNALING_PATH } from '@kaskade/protocol';

/** A bare WebSocket to the edge, for sending what no SDK would send. */
export class RawSocket {
  readonly #socket: WebSocket;
  readonly #frames: unknown[] = [];
  readonly #waiters: ((frame: unknown) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener('message', (event) => {
      const frame = JSON.parse(String(event.data));
      const waiter = this.#waiters.shift();
      if (waiter) waiter(frame);
      else this.#frames.push(frame);
    });
    this.closed = new Promise((resolve) =>
      socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })),
    );
  }

  static open(edgeUrl: string): Promise<RawSocket> {
    const socket = new WebSocket(new URL(SIGNALING_PATH, edgeUrl.replace(/^http/, 'ws')));
    return new Promise((resolve, reject) => {
      socket.addEventListener('open', () => resolve(new RawSocket(socket)));
      socket.addEventListener('error', () => reject(new Error('websocket failed')));
    });
  }

  get open(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  send(data: string | Uint8Array): void {
    this.#socket.send(data);
  }

  /** The next frame from the edge (response or notification). */
  next(timeoutMs = 5000): Promise<Record<string, unknown>> {
    const queued = this.#frames.shift();
    if (queued) return Promise.resolve(queued as Record<string, unknown>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame from the edge')), timeoutMs);
      this.#waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame as Record<string, unknown>);
      });
    });
  }

  /** Sends a request frame and returns the response with that id. */
  async request(id: number, method: string, data?: unknown): Promise<Record<string, unknown>> {
    this.send(JSON.stringify({ id, method, data }));
    for (;;) {
      const frame = await this.next();
      if (frame.id === id) return frame;
    }
  }

  close(): void {
    this.#socket.close();
  }
}
