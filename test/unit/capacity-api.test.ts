import {
  Autoscaler,
  type AutoscaleSettings,
  apiAuthenticator,
  type CapacityPluginOptions,
  capacityPlugin,
} from '@kaskade/control-plane';
import { createMetricsRegistry, HttpListener } from '@kaskade/node-toolkit';
import type { CapacityReservation, NodeReport } from '@kaskade/protocol';
import { KaskadeApi, KaskadeApiError } from '@kaskade/server-sdk';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heartbeat } from '../helpers/heartbeats.ts';

const logger = pino({ level: 'silent' });
const KEY = 'k'.repeat(40);
const HOUR = 3_600_000;

const settings: AutoscaleSettings = {
  targetLoad: 0.5,
  headroomNodes: 0,
  stabilizationMs: 0,
  scaleDownStep: 1,
  leadMs: HOUR,
  nodeStartupMs: 60_000,
  participantsPerEdge: 10,
  limits: () => ({ min: 1, max: 50 }),
};

const edge = (nodeId: string, region: string, load: number): NodeReport => ({
  nodeId,
  ...heartbeat({ region, load, capacity: 10 }),
});

/** Reservations as a map, bounded like the Redis store (CapacityReservations), for the API's logic. */
class Store {
  readonly stored = new Map<string, CapacityReservation>();
  readonly max = 2;
  async put(r: CapacityReservation) {
    if (!this.stored.has(r.id) && this.stored.size >= this.max) return false;
    this.stored.set(r.id, r);
    return true;
  }
  async delete(id: string) {
    return this.stored.delete(id);
  }
  async list() {
    return [...this.stored.values()];
  }
}

describe('the capacity API through the server SDK', () => {
  const store = new Store();
  const nodes = [edge('edge-eu-1', 'eu', 0.4), edge('edge-us-1', 'us', 0)];
  const metrics = createMetricsRegistry({ node: 'cp-1', region: 'global', kind: 'control-plane' });
  const autoscaler = new Autoscaler({
    nodes: { nodes: () => nodes },
    reservations: store,
    settings,
    intervalMs: 60_000,
    registry: metrics,
    logger,
  });
  const http = new HttpListener({ logger });
  let api: KaskadeApi;

  beforeAll(async () => {
    const options: CapacityPluginOptions = {
      authenticate: apiAuthenticator({
        keys: [KEY],
        perAddress: { perSecond: 1000, burst: 100 },
        rateLimitKeys: 100,
      }),
      reservations: store,
      autoscaler,
      maxBodyBytes: 4096,
    };
    await http.app.register(capacityPlugin, options);
    await http.listen({ host: '127.0.0.1', port: 0 });
    api = new KaskadeApi({ url: http.url, apiKey: KEY });
  });
  afterAll(() => http.close());

  it('reserves, reports the desired counts with reasons, and cancels', async () => {
    await autoscaler.decide();
    expect((await api.capacity()).regions.find((r) => r.region === 'eu' && r.kind === 'edge')).toMatchObject({
      nodes: 1,
      desired: 1,
    });
    const startsAt = new Date(Date.now() + HOUR / 2).toISOString();
    const stored = await api.reserveCapacity('physics-101', {
      startsAt,
      expectedParticipants: 100,
      regions: { eu: 3, us: 1 },
    });
    // Filled in: the default end (4 h) and kind.
    expect(stored).toEqual({
      id: 'physics-101',
      startsAt,
      endsAt: new Date(Date.parse(startsAt) + 4 * HOUR).toISOString(),
      expectedParticipants: 100,
      regions: { eu: 3, us: 1 },
      kind: 'lecture',
    });
    expect(store.stored.get('physics-101')).toEqual(stored);
    // Decided at once: 75 in eu at 10 per edge and target 0.5: 15 edges; 25 in us: 5.
    const report = await api.capacity();
    const eu = report.regions.find((r) => r.region === 'eu' && r.kind === 'edge')!;
    expect(eu.desired).toBe(15);
    expect(eu.reasons.join('\n')).toMatch(
      /reservation physics-101 \(lecture, starts in \d+ s\): 75 participants/,
    );
    expect(report.regions.find((r) => r.region === 'us' && r.kind === 'edge')!.desired).toBe(5);
    expect(report.reservations).toEqual([stored]);
    // The gauge carries its own region and kind over the registry's defaults; `node` names the replica.
    const text = await metrics.metrics();
    expect(text).toContain('kaskade_desired_nodes{region="eu",kind="edge",node="cp-1"} 15');
    expect(text).toContain('kaskade_desired_nodes{region="us",kind="relay",node="cp-1"} 1');
    expect(text).toContain('kaskade_wanted_nodes{region="eu",kind="edge",node="cp-1"} 15');
    expect(text).toMatch(
      /kaskade_capacity_reservations\{node="cp-1",region="global",kind="control-plane"\} 1/,
    );
    await api.cancelReservation('physics-101');
    expect(store.stored.size).toBe(0);
    await api.cancelReservation('physics-101'); // gone already: fine
    expect((await api.capacity()).reservations).toEqual([]);
  });

  it('refuses what cannot be a reservation with a typed 400, a missing key as the room API does, and past the bound', async () => {
    const soon = new Date(Date.now() + HOUR).toISOString();
    const bad: [string, unknown][] = [
      ['not a date', { startsAt: 'tomorrow', expectedParticipants: 10 }],
      ['a string count', { startsAt: soon, expectedParticipants: '10' }],
      ['no audience', { startsAt: soon, expectedParticipants: 0 }],
      ['an unknown field', { startsAt: soon, expectedParticipants: 10, rooms: ['a'] }],
      ['a bad region', { startsAt: soon, expectedParticipants: 10, regions: { 'eu.west': 1 } }],
      [
        'ends before it starts',
        { startsAt: soon, endsAt: new Date(Date.now()).toISOString(), expectedParticipants: 10 },
      ],
      [
        'ended',
        { startsAt: '2020-01-01T10:00:00Z', endsAt: '2020-01-01T11:00:00Z', expectedParticipants: 10 },
      ],
      [
        'too long',
        { startsAt: soon, endsAt: new Date(Date.now() + 30 * HOUR).toISOString(), expectedParticipants: 10 },
      ],
      [
        'too far ahead',
        { startsAt: new Date(Date.now() + 100 * 24 * HOUR).toISOString(), expectedParticipants: 10 },
      ],
    ];
    for (const [what, body] of bad) {
      const answer = await fetch(`${http.url}/v1/capacity/reservations/x`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(answer.status, what).toBe(400);
      expect((await answer.json()).code, what).toBe('BAD_REQUEST');
    }
    const badId = await api
      .reserveCapacity('a.b', { startsAt: soon, expectedParticipants: 1 })
      .catch((e) => e);
    expect(badId).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
    expect(store.stored.size).toBe(0);
    // No key, or a wrong one: 401 with the scheme, before the body is looked at.
    for (const headers of [{}, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
      const answer = await fetch(`${http.url}/v1/capacity`, { headers });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      expect((await answer.json()).code).toBe('UNAUTHORIZED');
    }
    const wrongKey = new KaskadeApi({ url: http.url, apiKey: 'x'.repeat(40) });
    expect(await wrongKey.capacity().catch((e) => e)).toBeInstanceOf(KaskadeApiError);
    // Past the store's bound: CONFLICT; replacing one stored is fine.
    await api.reserveCapacity('a', { startsAt: soon, expectedParticipants: 1 });
    await api.reserveCapacity('b', { startsAt: soon, expectedParticipants: 1 });
    expect(
      await api.reserveCapacity('c', { startsAt: soon, expectedParticipants: 1 }).catch((e) => e),
    ).toMatchObject({
      code: 'CONFLICT',
      status: 409,
    });
    expect(
      (await api.reserveCapacity('b', { startsAt: soon, expectedParticipants: 5, kind: 'meeting' })).kind,
    ).toBe('meeting');
  });
});
