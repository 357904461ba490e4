import type { Edge } from '@kaskade/edge';
import { RtpBot } from '@kaskade/load-tools';
import { Requests } from '@kaskade/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectNoMediaObjects, startEdge, token } from '../helpers/edge.ts';
import { RawSocket } from '../helpers/raw-socket.ts';

let edge: Edge;
beforeAll(async () => {
  edge = await startEdge();
});
afterAll(async () => {
  await edge?.stop();
});

/** A small deterministic generator, so a failure can be replayed. */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const value = (depth: number): unknown => {
    const leaves = [null, true, 0, -1, 1e308, 2 ** 53, 'x', '', 'a'.repeat(300), 'send', 'video', 'camera'];
    if (depth > 2 || next() < 0.5) return pick(leaves);
    if (next() < 0.5) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    const keys = [
      'transportId',
      'producerId',
      'consumerId',
      'direction',
      'kind',
      'source',
      'rtpParameters',
      'codecs',
    ];
    return Object.fromEntries(
      Array.from({ length: Math.floor(next() * 4) }, () => [pick(keys), value(depth + 1)]),
    );
  };
  return { next, pick, value };
}

it('survives random requests for every method: typed errors only, process alive, nothing leaked', async () => {
  const publisher = await RtpBot.join(edge.url, await token('publisher', 'fuzz-room'));
  const mic = await publisher.publish('microphone');
  const ws = await RawSocket.open(edge.url);
  const caps = (await ws.request(1, 'getRouterRtpCapabilities', {})).data as { rtpCapabilities: unknown };
  expect(await ws.request(2, 'join', { token: await token('fuzzer', 'fuzz-room'), ...caps })).toMatchObject({
    ok: true,
  });
  const send = (await ws.request(3, 'createTransport', { direction: 'send' })).data as { id: string };
  const random = generator(20261126);
  const methods = [...Object.keys(Requests).filter((m) => m !== 'leave'), 'nope', 'constructor'];
  const codes = new Set<string>();
  for (let id = 10; id < 410; id++) {
    const method = random.pick(methods);
    const data =
      random.next() < 0.3
        ? { transportId: send.id, producerId: mic, ...(random.value(0) as object) }
        : random.value(0);
    const answer = await ws.request(id, method, data);
    if (answer.ok === false) codes.add((answer.error as { code: string }).code);
    expect(answer).toHaveProperty('ok');
  }
  expect(
    [...codes].every((c) =>
      // UNAVAILABLE: this edge stands alone, and chat and room actions need the mesh's directory and control plane.
      [
        'BAD_REQUEST',
        'UNKNOWN_METHOD',
        'NOT_FOUND',
        'INVALID_STATE',
        'FORBIDDEN',
        'CONFLICT',
        'UNAVAILABLE',
      ].includes(c),
    ),
  ).toBe(true);
  expect(codes.has('INTERNAL')).toBe(false);
  expect(ws.open).toBe(true);
  expect((await ws.request(999, 'getRouterRtpCapabilities', {})).ok).toBe(true);
  ws.close();
  await publisher.close();
  await expectNoMediaObjects(edge);
});
