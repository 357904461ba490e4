import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { retryDelayMs, WebhookSender } from '@kaskade/control-plane';
import { signWebhook, verifyWebhook } from '@kaskade/node-toolkit';
import { WebhookEvent, WebhookHeaders } from '@kaskade/protocol';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Compile } from 'typebox/compile';
import { afterEach, describe, expect, it } from 'vitest';

const SECRET = 's'.repeat(40);
const OLD = 'o'.repeat(40);
const now = 1_800_000_000;

describe('webhook signatures', () => {
  const body = '{"id":"e1","type":"roomStarted"}';
  const check = (over: Partial<Parameters<typeof verifyWebhook>[0]>) =>
    verifyWebhook({
      secrets: [SECRET],
      signature: signWebhook([SECRET], now, body),
      timestamp: String(now),
      body,
      nowSeconds: now,
      ...over,
    });

  it('is v1= the hex HMAC-SHA256 of "<timestamp>.<body>"; one per secret during a rotation', () => {
    expect(signWebhook([SECRET], now, body)).toMatch(/^v1=[0-9a-f]{64}$/);
    const both = signWebhook([SECRET, OLD], now, body).split(' ');
    expect(both).toHaveLength(2);
    expect(both[0]).toBe(signWebhook([SECRET], now, body));
  });

  it('verifies a genuine recent webhook, with either secret of a rotation', () => {
    expect(check({})).toBe(true);
    expect(check({ secrets: [OLD, SECRET] })).toBe(true);
    expect(check({ secrets: [OLD], signature: signWebhook([SECRET, OLD], now, body) })).toBe(true);
    expect(check({ nowSeconds: now + 299 })).toBe(true);
  });

  it('refuses a wrong secret, a changed body or timestamp, an old or future timestamp, a malformed header', () => {
    expect(check({ secrets: [OLD] })).toBe(false);
    expect(check({ body: `${body} ` })).toBe(false);
    expect(check({ timestamp: String(now + 1), nowSeconds: now + 1 })).toBe(false);
    expect(check({ nowSeconds: now + 301 })).toBe(false);
    expect(check({ nowSeconds: now - 301 })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
    expect(check({ timestamp: 'yesterday' })).toBe(false);
    expect(check({ signature: signWebhook([SECRET], now, body).replace('v1=', 'v0=') })).toBe(false);
  });
});

describe('the retry schedule', () => {
  it('doubles from the base up to the cap, and stops after the last attempt', () => {
    const policy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(attempt, policy))).toEqual([
      1000,
      2000,
      4000,
      8000,
      10_000,
      null,
    ]);
    expect(retryDelayMs(1, { ...policy, maxAttempts: 1 })).toBeNull();
  });
});

describe('WebhookSender (to a real HTTP receiver)', () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  interface Received {
    headers: IncomingMessage['headers'];
    body: string;
  }

  /** A receiver answering each request with the next status of `statuses` (then 200), or hanging on 0. */
  async function receiver(statuses: number[]) {
    const received: Received[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        const status = statuses.shift() ?? 200;
        if (status !== 0) response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.closeAllConnections());
    closers.push(() => server.close());
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
  }

  function sender(url: string, over: Partial<ConstructorParameters<typeof WebhookSender>[0]> = {}) {
    const registry = new Registry();
    const s = new WebhookSender({
      url,
      secrets: [SECRET, OLD],
      maxQueue: 10,
      concurrency: 2,
      timeoutMs: 2000,
      retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 40 },
      logger: pino({ level: 'silent' }),
      registry,
      ...over,
    });
    closers.push(() => s.close());
    return { s, registry };
  }

  const until = async (done: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const results = async (registry: Registry) =>
    Object.fromEntries(
      (await registry.getSingleMetric('kaskade_webhook_deliveries_total')!.get()).values.map((v) => [
        v.labels.result,
        v.value,
      ]),
    );

  it('POSTs each event as a WebhookEvent with its id, timestamp and a signature that verifies', async () => {
    const { url, received } = await receiver([]);
    const { s, registry } = sender(url);
    s.emit('participantLeft', 'r1', { participantId: 'p1' });
    await until(() => received.length === 1 && s.depth === 0);
    const [{ headers, body }] = received as [Received];
    const event = JSON.parse(body);
    expect(Compile(WebhookEvent).Check(event)).toBe(true);
    expect(event).toMatchObject({ type: 'participantLeft', room: 'r1', data: { participantId: 'p1' } });
    expect(headers[WebhookHeaders.id]).toBe(event.id);
    expect(headers['content-type']).toBe('application/json');
    const signed = {
      signature: headers[WebhookHeaders.signature] as string,
      timestamp: headers[WebhookHeaders.timestamp] as string,
      body,
    };
    expect(verifyWebhook({ secrets: [SECRET], ...signed })).toBe(true);
    expect(verifyWebhook({ secrets: [OLD], ...signed })).toBe(true);
    expect(verifyWebhook({ secrets: ['x'.repeat(40)], ...signed })).toBe(false);
    expect(await results(registry)).toMatchObject({ delivered: 1, retried: 0, failed: 0 });
  });

  it('retries a failed attempt with the same id until the receiver takes it', async () => {
    const { url, received } = await receiver([500, 503]);
    const { s, registry } = sender(url);
    s.emit('roomStarted', 'r1', {});
    await until(() => received.length === 3 && s.depth === 0);
    expect(new Set(received.map((r) => r.headers[WebhookHeaders.id])).size).toBe(1);
    expect(await results(registry)).toMatchObject({ delivered: 1, retried: 2, failed: 0 });
  });

  it('gives up after the last attempt; a hung receiver is a timeout', async () => {
    const { url, received } = await receiver([500, 0, 500, 500]);
    const { s, registry } = sender(url, { timeoutMs: 200 });
    s.emit('roomEnded', 'r1', {});
    await until(() => s.depth === 0);
    expect(received).toHaveLength(3);
    expect(await results(registry)).toMatchObject({ delivered: 0, retried: 2, failed: 1 });
  });

  it('holds at most maxQueue events; more are dropped and counted', async () => {
    const { url, received } = await receiver([0, 0, 0]);
    const { s, registry } = sender(url, { maxQueue: 3, concurrency: 1, timeoutMs: 300 });
    for (let i = 0; i < 5; i++) s.emit('participantLeft', 'r1', { participantId: `p${i}` });
    expect(s.depth).toBe(3);
    expect((await results(registry)).dropped).toBe(2);
    const depth = (await registry.getSingleMetric('kaskade_webhook_queue_depth')!.get()).values[0]?.value;
    expect(depth).toBe(3);
    await until(() => s.depth === 0);
    expect(received.length).toBeGreaterThanOrEqual(3);
  });
});
