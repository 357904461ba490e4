import { apiAuthenticator, apiPlugin, RoomActionExecutor } from '@kaskade/control-plane';
import type { Directory } from '@kaskade/directory';
import { HttpListener } from '@kaskade/node-toolkit';
import { KaskadeError, type RoomEvent, roomActionPath, roomSummaryPath, Subjects } from '@kaskade/protocol';
import pino from 'pino';
import { Registry } from 'prom-client';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';

const logger = pino({ level: 'silent' });

/** A table of test actions: the executor is given its own, so its plumbing is tested without any feature. */
const actions = {
  echo: {
    request: Type.Object({ text: Type.String({ maxLength: 10 }) }, { additionalProperties: false }),
    response: Type.Object({ text: Type.String(), room: Type.String(), actor: Type.String() }),
    description: 'answers with its text',
  },
  refuse: { request: Type.Object({}), response: Type.Object({}), description: 'always refused' },
  crash: { request: Type.Object({}), response: Type.Object({}), description: 'fails unexpectedly' },
  misanswer: {
    request: Type.Object({}),
    response: Type.Object({ n: Type.Integer() }),
    description: 'bad answer',
  },
  announce: {
    request: Type.Object({}),
    response: Type.Object({}),
    description: 'publishes and tells the app',
  },
};

function executorWith(registry?: Registry) {
  const published: { subject: string; event: RoomEvent }[] = [];
  const webhooks: { type: string; room: string; data: unknown }[] = [];
  const executor = new RoomActionExecutor({
    controlPlaneId: 'cp-1',
    bus: {
      publish: (subject, _schema, event) => void published.push({ subject, event: event as RoomEvent }),
    },
    directory: {} as Directory,
    tickets: { issue: async () => ({ url: 'http://edge', token: 't', nodeId: 'edge-a' }) },
    webhooks: { emit: (type, room, data) => void webhooks.push({ type, room, data }) },
    logger,
    registry,
    actions,
    handlers: {
      echo: async (ctx, { text }: { text: string }) => ({ text, room: ctx.room, actor: ctx.actor.kind }),
      refuse: async () => {
        throw new KaskadeError('FORBIDDEN', 'not you');
      },
      crash: async () => {
        throw new Error('bug');
      },
      misanswer: async () => ({ n: 'one' }),
      announce: async (ctx) => {
        ctx.publish({ type: 'handLowered', participantId: 'p1' });
        ctx.publish({ type: 'handLowered', participantId: 'p2' }, 'other-room');
        ctx.webhook('roomStarted', {});
        return {};
      },
    },
  });
  return { executor, published, webhooks };
}

const app = { kind: 'application' } as const;
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: KaskadeError) => error.code,
  );

describe('RoomActionExecutor', () => {
  it('runs an action with its room and actor, once its parameters pass the schema', async () => {
    const { executor } = executorWith();
    const moderator = { kind: 'moderator', participantId: 'p1', node: 'edge-a' } as const;
    expect(await executor.execute('r1', moderator, 'echo', { text: 'hi' })).toEqual({
      text: 'hi',
      room: 'r1',
      actor: 'moderator',
    });
    expect(await executor.execute('r2', app, 'echo', { text: 'yo' })).toMatchObject({
      room: 'r2',
      actor: 'application',
    });
  });

  it('refuses bad parameters (BAD_REQUEST) and an unknown action (NOT_FOUND) without running anything', async () => {
    const { executor } = executorWith();
    expect(await refusal(executor.execute('r', app, 'echo', { text: 'far too long text' }))).toBe(
      'BAD_REQUEST',
    );
    expect(await refusal(executor.execute('r', app, 'echo', { text: 'hi', extra: 1 }))).toBe('BAD_REQUEST');
    expect(await refusal(executor.execute('r', app, 'echo', undefined))).toBe('BAD_REQUEST');
    expect(await refusal(executor.execute('r', app, 'nope', {}))).toBe('NOT_FOUND');
  });

  it('passes a typed refusal on; an unexpected failure or an answer breaking its schema is INTERNAL; all counted', async () => {
    const registry = new Registry();
    const { executor } = executorWith(registry);
    expect(await refusal(executor.execute('r', app, 'refuse', {}))).toBe('FORBIDDEN');
    expect(await refusal(executor.execute('r', app, 'crash', {}))).toBe('INTERNAL');
    expect(await refusal(executor.execute('r', app, 'misanswer', {}))).toBe('INTERNAL');
    await executor.execute('r', app, 'echo', { text: 'a' });
    const counts = (await registry.getSingleMetric('kaskade_room_actions_total')!.get()).values;
    const count = (action: string, result: string) =>
      counts.find((v) => v.labels.action === action && v.labels.result === result)?.value;
    expect(count('refuse', 'refused')).toBe(1);
    expect(count('crash', 'failed')).toBe(1);
    expect(count('misanswer', 'failed')).toBe(1);
    expect(count('echo', 'ok')).toBe(1);
  });

  it('publishes on the room-control subject as the control plane, and emits webhooks for the room', async () => {
    const { executor, published, webhooks } = executorWith();
    await executor.execute('r1', app, 'announce', {});
    expect(published.map((p) => p.subject)).toEqual([
      Subjects.roomControl('r1', 'cp-1'),
      Subjects.roomControl('other-room', 'cp-1'),
    ]);
    expect(webhooks).toEqual([{ type: 'roomStarted', room: 'r1', data: {} }]);
  });

  it('will not start with an action that has no handler', () => {
    expect(
      () =>
        new RoomActionExecutor({
          controlPlaneId: 'cp-1',
          bus: { publish: () => {} },
          directory: {} as Directory,
          tickets: { issue: async () => ({ url: '', token: '', nodeId: '' }) },
          webhooks: { emit: () => {} },
          logger,
          actions,
          handlers: {},
        }),
    ).toThrow(/echo has no handler/);
  });
});

describe('the application API (apiPlugin)', () => {
  const KEY = 'k'.repeat(40);
  const PREVIOUS = 'p'.repeat(40);

  async function api(keys: string[], perSecond = 1000) {
    const http = new HttpListener({ logger });
    const directory = {
      room: async () => ({ participants: [], streams: [], nodes: ['edge-a'] }),
    } as unknown as Directory;
    await http.app.register(apiPlugin, {
      authenticate: apiAuthenticator({ keys, perAddress: { perSecond, burst: 3 }, rateLimitKeys: 100 }),
      executor: executorWith().executor,
      directory,
      maxBodyBytes: 4096,
    });
    return http.app;
  }
  const post = (key: string | undefined, path: string, body: unknown = {}) => ({
    method: 'POST' as const,
    url: path,
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
    payload: body as object,
  });

  it('executes an action with the key or the previous key; refuses others with 401, typed', async () => {
    const app = await api([KEY, PREVIOUS]);
    const ok = await app.inject(post(KEY, roomActionPath('r1', 'echo'), { text: 'hi' }));
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ text: 'hi', room: 'r1', actor: 'application' });
    expect((await app.inject(post(PREVIOUS, roomActionPath('r1', 'echo'), { text: 'x' }))).statusCode).toBe(
      200,
    );
    for (const key of [undefined, 'wrong', `${KEY}x`, KEY.slice(1)]) {
      const refused = await app.inject(post(key, roomActionPath('r1', 'echo'), { text: 'hi' }));
      expect(refused.statusCode).toBe(401);
      expect(refused.json().code).toBe('UNAUTHORIZED');
      expect(refused.headers['www-authenticate']).toBe('Bearer');
    }
    // Unknown actions are found out only with the key.
    expect((await app.inject(post(undefined, roomActionPath('r1', 'nope')))).statusCode).toBe(401);
    const unknown = await app.inject(post(KEY, roomActionPath('r1', 'nope')));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('NOT_FOUND');
  });

  it('answers bad parameters 400, refusals with their status, and the summary', async () => {
    const app = await api([KEY]);
    const bad = await app.inject(post(KEY, roomActionPath('r1', 'echo'), { text: 5 }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('BAD_REQUEST');
    const badRoom = await app.inject(post(KEY, roomActionPath('r.1', 'echo'), { text: 'a' }));
    expect(badRoom.statusCode).toBe(400);
    const refused = await app.inject(post(KEY, roomActionPath('r1', 'refuse')));
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'FORBIDDEN']);
    const crashed = await app.inject(post(KEY, roomActionPath('r1', 'crash')));
    expect([crashed.statusCode, crashed.json()]).toEqual([
      500,
      { code: 'INTERNAL', message: 'internal error' },
    ]);
    const summary = await app.inject({
      method: 'GET',
      url: roomSummaryPath('r1'),
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(summary.json()).toEqual({ room: 'r1', participants: [], streams: [], nodes: ['edge-a'] });
    expect((await app.inject({ method: 'GET', url: roomSummaryPath('r1') })).statusCode).toBe(401);
  });

  it('is off (503) without a key, and rate-limits each address before anything else', async () => {
    const off = await api([]);
    const answer = await off.inject(post('', roomActionPath('r1', 'echo'), { text: 'a' }));
    expect([answer.statusCode, answer.json().code]).toEqual([503, 'UNAVAILABLE']);
    const limited = await api([KEY], 0.1);
    const codes = [];
    for (let i = 0; i < 5; i++)
      codes.push(
        (
          await limited.inject({
            method: 'GET',
            url: roomSummaryPath('r1'),
            headers: { authorization: 'Bearer wrong' },
          })
        ).statusCode,
      );
    expect(codes).toEqual([401, 401, 401, 429, 429]);
  });
});
