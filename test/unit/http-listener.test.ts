import { HttpListener } from '@kaskade/node-toolkit';
import { KaskadeError } from '@kaskade/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Every process (edge, relay, control plane) answers health and refusals through this
// one listener; a real fastify on loopback, so what a load balancer sees is tested once.
describe('HttpListener: the one HTTP bootstrap', () => {
  let reason: string | null = null;
  const http = new HttpListener({ logger: pino({ level: 'silent' }), notReadyReason: () => reason });

  beforeAll(async () => {
    http.app.get('/refuse', async () => {
      throw new KaskadeError('FORBIDDEN', 'not yours');
    });
    http.app.get('/fail', async () => {
      throw new Error('a fault of ours');
    });
    await http.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => http.close());

  it('answers /readyz 200 while serving and 503 with the reason while draining; /livez always', async () => {
    expect((await fetch(`${http.url}/readyz`)).status).toBe(200);
    reason = 'draining';
    const draining = await fetch(`${http.url}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ status: 'unavailable', reason: 'draining' });
    expect((await fetch(`${http.url}/livez`)).status).toBe(200);
    reason = null;
    expect((await fetch(`${http.url}/readyz`)).status).toBe(200);
  });

  it('refuses with typed bodies: a KaskadeError with its status, unknown routes 404, our faults 500 without detail', async () => {
    const refused = await fetch(`${http.url}/refuse`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ code: 'FORBIDDEN', message: 'not yours' });
    const unknown = await fetch(`${http.url}/nowhere`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
    const failed = await fetch(`${http.url}/fail`);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ code: 'INTERNAL', message: 'internal error' });
  });
});
