import { request } from 'node:http';
import { SIGNALING_PATH } from '@kaskade/protocol';
import WebSocket from 'ws';
import { expectFlowing } from './edge.ts';

/** The people already in a room keep their media while a hostile client does its worst. */
export const keepsFlowing = (stream: { packets: number }) => expectFlowing(stream, 15);

/** A WebSocket client that can do what browsers cannot: pick its source address, stop reading. */
export class Client {
  readonly ws: WebSocket;
  readonly frames: Record<string, unknown>[] = [];
  receivedBytes = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #waiters: (() => void)[] = [];

  constructor(edgeUrl: string, localAddress = '127.0.0.1') {
    this.ws = new WebSocket(new URL(SIGNALING_PATH, edgeUrl.replace(/^http/, 'ws')), { localAddress });
    this.ws.on('message', (data: Buffer) => {
      this.receivedBytes += data.byteLength;
      this.frames.push(JSON.parse(data.toString('utf8')));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Resolves once open; rejects with the HTTP status when the upgrade is refused. */
  static open(edgeUrl: string, localAddress?: string): Promise<Client> {
    const client = new Client(edgeUrl, localAddress);
    return new Promise((resolve, reject) => {
      client.ws.once('open', () => resolve(client));
      client.ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error('refused'), { status: res.statusCode })),
      );
      client.ws.once('error', reject);
    });
  }

  send(id: number, method: string, data: unknown = {}): void {
    this.ws.send(JSON.stringify({ id, method, data }));
  }

  async answer(id: number, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find((f) => f.id === id);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no answer to ${id}`);
      await new Promise<void>((wake) => {
        this.#waiters.push(wake);
        setTimeout(wake, 100);
      });
    }
  }

  async request(id: number, method: string, data: unknown = {}) {
    this.send(id, method, data);
    return this.answer(id);
  }
}

/** POST JSON from a chosen source address (a different client machine on loopback). */
export function post(
  url: string,
  body: string | Buffer,
  { localAddress = '127.0.0.1', contentType = 'application/json' } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { 'content-type': contentType, 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
