import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import { verifyWebhook } from '@kaskade/node-toolkit';
import {
  type ErrorBody,
  type MeshParticipant,
  type RoomSummary,
  roomActionPath,
  roomSummaryPath,
  type WebhookEvent,
  WebhookHeaders,
} from '@kaskade/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAST_CONTROL_PLANE_ENV,
  FAST_MESH_ENV,
  joinThroughControlPlane,
  type Placed,
} from '../helpers/mesh.ts';
import { Waiter } from '../helpers/moderation.ts';

const API_KEY = randomBytes(24).toString('hex');
const PREVIOUS_KEY = randomBytes(24).toString('hex');
const WEBHOOK_SECRET = randomBytes(24).toString('hex');
const PREVIOUS_SECRET = randomBytes(24).toString('hex');

interface Attempt {
  headers: IncomingMessage['headers'];
  body: string;
  status: number;
}

/** The application's webhook receiver: refuses its first `failFirst` requests (500), takes the rest. */
class Receiver {
  readonly attempts: Attempt[] = [];
  #failFirst: number;
  readonly #server: Server;

  constructor(failFirst: number) {
    this.#failFirst = failFirst;
    this.#server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const status = this.#failFirst-- > 0 ? 500 : 200;
        this.attempts.push({ headers: request.headers, body, status });
        response.writeHead(status).end();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/kaskade`;
  }

  /** The events taken (2xx), once each. */
  delivered(room: string): WebhookEvent[] {
    const events = new Map<string, WebhookEvent>();
    for (const a of this.attempts.filter((a) => a.status === 200)) {
      const event = JSON.parse(a.body) as WebhookEvent;
      if (event.room === room) events.set(event.id, event);
    }
    return [...events.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 15_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the application API and webhooks, over a real mesh (two regions, two control-plane replicas)', () => {
  let receiver: Receiver;
  let mesh: LocalMesh;
  const bots: Placed[] = [];

  beforeAll(async () => {
    receiver = new Receiver(2);
    const webhookUrl = await receiver.listen();
    mesh = await startLocalMesh({
      edgeEnv: FAST_MESH_ENV,
      controlPlaneEnv: {
        ...FAST_CONTROL_PLANE_ENV,
        KASKADE_APP_API_KEY: API_KEY,
        KASKADE_APP_API_PREVIOUS_KEY: PREVIOUS_KEY,
        KASKADE_WEBHOOK_URL: webhookUrl,
        KASKADE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        KASKADE_WEBHOOK_PREVIOUS_SECRET: PREVIOUS_SECRET,
        KASKADE_WEBHOOK_RETRY_BASE_MS: '100',
        KASKADE_WEBHOOK_RETRY_MAX_MS: '400',
      },
    });
    await mesh.addControlPlane(); // a second replica: still one webhook per event
  }, 60_000);
  afterAll(async () => {
    for (const { bot } of bots) await bot.close().catch(() => undefined);
    await mesh?.stop();
    await receiver?.close();
  });

  const api = (path: string, init: { key?: string; method?: string; body?: unknown } = {}) =>
    fetch(`${mesh.controlPlane.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  const refusal = async (response: Response) => [
    response.status,
    ((await response.json()) as ErrorBody).code,
  ];
  const join = async (identity: string, room: string, region: string) => {
    const placed = await joinThroughControlPlane(mesh, identity, room, region);
    bots.push(placed);
    return placed;
  };

  it('refuses without or with a wrong key (401), takes the previous key, types its refusals (404, 400)', async () => {
    const room = 'api-room';
    expect(await refusal(await api(roomSummaryPath(room)))).toEqual([401, 'UNAUTHORIZED']);
    expect(await refusal(await api(roomSummaryPath(room), { key: 'x'.repeat(48) }))).toEqual([
      401,
      'UNAUTHORIZED',
    ]);
    expect(await refusal(await api(roomSummaryPath(room), { key: `${API_KEY}x` }))).toEqual([
      401,
      'UNAUTHORIZED',
    ]);
    const unknown = roomActionPath(room, 'noSuchAction');
    expect(await refusal(await api(unknown, { method: 'POST', body: {} }))).toEqual([401, 'UNAUTHORIZED']);
    expect(await refusal(await api(unknown, { key: API_KEY, method: 'POST', body: {} }))).toEqual([
      404,
      'NOT_FOUND',
    ]);
    expect(await refusal(await api(roomSummaryPath('bad.room'), { key: API_KEY }))).toEqual([
      400,
      'BAD_REQUEST',
    ]);
    const empty = await api(roomSummaryPath(room), { key: PREVIOUS_KEY });
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ room, participants: [], streams: [], nodes: [] });
  });

  it('sends roomStarted, participantJoined/Left and roomEnded once each, signed with both secrets, retried after refusals', async () => {
    const room = 'webhook-room';
    // Two participants on edges of two regions: the summary sees both where they are.
    const alice = await join('alice', room, 'eu');
    const bob = await join('bob', room, 'us');
    expect(alice.nodeId).not.toBe(bob.nodeId);
    const where = (participants: MeshParticipant[]) =>
      participants.map((p) => `${p.identity}@${p.node}`).sort();
    const expected = [`alice@${alice.nodeId}`, `bob@${bob.nodeId}`];
    await until('both in the summary', async () => {
      const summary = (await (await api(roomSummaryPath(room), { key: API_KEY })).json()) as RoomSummary;
      return summary.participants.length === 2 && summary;
    });
    const summary = (await (await api(roomSummaryPath(room), { key: API_KEY })).json()) as RoomSummary;
    expect(where(summary.participants)).toEqual(expected);
    expect([...summary.nodes].sort()).toEqual([alice.nodeId, bob.nodeId].sort());

    await until(
      'the joins as webhooks',
      () => receiver.delivered(room).filter((e) => e.type === 'participantJoined').length === 2,
    );
    await alice.bot.close();
    await bob.bot.close();
    await until('roomEnded', () => receiver.delivered(room).some((e) => e.type === 'roomEnded'));
    // A duplicate (from the other replica) would have come by now.
    await new Promise((r) => setTimeout(r, 1000));

    const events = receiver.delivered(room);
    expect(events.map((e) => e.type).sort()).toEqual([
      'participantJoined',
      'participantJoined',
      'participantLeft',
      'participantLeft',
      'roomEnded',
      'roomStarted',
    ]);
    const at = (type: string) => events.filter((e) => e.type === type).map((e) => e.createdAt);
    expect(Math.max(...at('roomStarted'))).toBeLessThanOrEqual(Math.min(...at('participantJoined')));
    // The end follows a leave. Which of two simultaneous leaves the end comes after is not
    // defined: each replica stamps the leave it delivers, and the one that finds the room
    // empty first may stamp the end before the other stamps its leave.
    expect(Math.min(...at('roomEnded'))).toBeGreaterThanOrEqual(Math.min(...at('participantLeft')));
    const joined = events.flatMap((e) => (e.type === 'participantJoined' ? [e.data.participant] : []));
    expect(joined.map((p) => `${p.identity}@${p.node}`).sort()).toEqual(expected);
    const left = events.flatMap((e) => (e.type === 'participantLeft' ? [e.data.participantId] : []));
    expect(left.sort()).toEqual(joined.map((p) => p.participantId).sort());

    // Every attempt carries its event's id and a signature per secret; a stranger's secret fails.
    for (const attempt of receiver.attempts) {
      const signed = {
        signature: attempt.headers[WebhookHeaders.signature] as string,
        timestamp: attempt.headers[WebhookHeaders.timestamp] as string,
        body: attempt.body,
      };
      expect(verifyWebhook({ secrets: [WEBHOOK_SECRET], ...signed })).toBe(true);
      expect(verifyWebhook({ secrets: [PREVIOUS_SECRET], ...signed })).toBe(true);
      expect(verifyWebhook({ secrets: [randomBytes(24).toString('hex')], ...signed })).toBe(false);
      expect(attempt.headers[WebhookHeaders.id]).toBe(JSON.parse(attempt.body).id);
    }
    // The receiver refused its first two attempts: those events came again, with the same id.
    const refused = receiver.attempts.filter((a) => a.status === 500).map((a) => JSON.parse(a.body).id);
    expect(refused).toHaveLength(2);
    const deliveredIds = new Set(events.map((e) => e.id));
    for (const id of refused) expect(deliveredIds.has(id)).toBe(true);
  }, 60_000);

  it('moderation as webhooks: lobbyWaiting once per wait, participantRemoved, then meetingEnded and roomEnded once after endMeeting', async () => {
    const room = 'webhook-moderation';
    const act = async (name: string, body: unknown) => {
      const response = await api(roomActionPath(room, name), { key: API_KEY, method: 'POST', body });
      expect(response.status).toBe(200);
      return response.json();
    };
    await join('host', room, 'eu');
    const troll = await join('troll', room, 'us');
    await act('setPolicies', { policies: { lobby: true } });

    const visitor = await Waiter.open(mesh, 'visitor', room, 'us');
    await until('the visitor waits', () => visitor.positions.length > 0);
    const waiting = await until('lobbyWaiting', () =>
      receiver.delivered(room).find((e) => e.type === 'lobbyWaiting'),
    );
    expect(waiting.data).toMatchObject({ identity: 'visitor', name: 'visitor' });
    // The application admits with what the webhook told it; the held join goes on under that id.
    await act('admitFromLobby', { participantId: (waiting.data as { participantId: string }).participantId });
    const admitted = await visitor.answer;
    expect(admitted.self.id).toBe((waiting.data as { participantId: string }).participantId);

    await act('removeParticipant', { participantId: troll.bot.id, reason: 'spam', ban: true });
    const removed = await until('participantRemoved', () =>
      receiver.delivered(room).find((e) => e.type === 'participantRemoved'),
    );
    expect(removed.data).toEqual({
      participantId: troll.bot.id,
      identity: 'troll',
      reason: 'spam',
      banned: true,
    });

    await act('endMeeting', {});
    await until('roomEnded', () => receiver.delivered(room).some((e) => e.type === 'roomEnded'));
    // Everyone's leave comes after the end: none of them ends the room again, nor does the other replica.
    await until(
      'the leaves',
      () => receiver.delivered(room).filter((e) => e.type === 'participantLeft').length === 3,
    );
    await new Promise((r) => setTimeout(r, 1000));
    visitor.channel.close();
    const count = (type: string) => receiver.delivered(room).filter((e) => e.type === type).length;
    expect(
      ['roomStarted', 'lobbyWaiting', 'participantRemoved', 'meetingEnded', 'roomEnded'].map(count),
    ).toEqual([1, 1, 1, 1, 1]);
    for (const attempt of receiver.attempts.filter((a) => JSON.parse(a.body).room === room)) {
      const signed = {
        signature: attempt.headers[WebhookHeaders.signature] as string,
        timestamp: attempt.headers[WebhookHeaders.timestamp] as string,
        body: attempt.body,
      };
      expect(verifyWebhook({ secrets: [WEBHOOK_SECRET], ...signed })).toBe(true);
    }
  }, 60_000);
});
