import { serverUrl } from '@kaskade/client-sdk/dev-server';
import type { Edge } from '@kaskade/edge';
import { RtpBot } from '@kaskade/load-tools';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browsers.ts';
import { eventually, expectNoMediaObjects, startEdge, TEST_SECRET, token } from '../helpers/edge.ts';
import { harness, openHarness, startHarnessServer } from '../helpers/media-checks.ts';

let edge: Edge;
let web: FastifyInstance;
let browser: Browser;

beforeAll(async () => {
  edge = await startEdge();
  web = await startHarnessServer({ kind: 'edge', edgeUrl: edge.url, jwtSecret: TEST_SECRET });
  browser = await launchBrowser('chromium');
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await edge?.stop();
});

it('a browser in the audience raises a hand, is promoted, publishes without rejoining, and is demoted', async () => {
  const room = 'lecture-browser';
  const moderator = await RtpBot.join(
    edge.url,
    await token(
      'prof',
      room,
      { publish: true, subscribe: true, moderate: true },
      { role: 'stage', lecture: true },
    ),
  );
  const audience = await Promise.all(
    [1, 2, 3].map(async (i) =>
      RtpBot.join(
        edge.url,
        await token(
          `listener-${i}`,
          room,
          { publish: false, subscribe: true },
          { role: 'audience', lecture: true },
        ),
      ),
    ),
  );
  const page = await browser.newPage();
  await openHarness(page, serverUrl(web));
  const studentToken = await token(
    'student',
    room,
    { publish: false, subscribe: true },
    { role: 'audience', lecture: true },
  );
  const studentId = await harness<string>(page, 'join', edge.url, studentToken, { publish: false });
  expect(await harness(page, 'role')).toBe('audience');

  await harness(page, 'raiseHand');
  await eventually(async () =>
    expect((await moderator.channel.request('listHands', {})).hands.map((h) => h.participantId)).toEqual([
      studentId,
    ]),
  );
  await moderator.channel.request('setRole', { participantId: studentId, role: 'stage' });
  await eventually(async () => expect(await harness(page, 'role')).toBe('stage'));
  const [cameraId] = await harness<string[]>(page, 'publishMedia');

  // The audience receives the new speaker's camera.
  for (const bot of audience) await eventually(() => expect(bot.seen.streamAdded).toContain(cameraId));
  const received = await Promise.all(audience.map((bot) => bot.consume({ producerId: cameraId! })));
  await eventually(() => {
    for (const r of received) expect(r.packets).toBeGreaterThan(20);
  }, 15_000);

  await moderator.channel.request('setRole', { participantId: studentId, role: 'audience' });
  for (const bot of audience) await eventually(() => expect(bot.seen.streamClosed).toContain(cameraId));
  await eventually(async () => expect(await harness(page, 'role')).toBe('audience'));
  expect(await harness<string[]>(page, 'events')).toEqual(expect.arrayContaining(['roleChanged']));

  await harness(page, 'leave');
  await page.close();
  for (const bot of [...audience, moderator]) await bot.close();
  await expectNoMediaObjects(edge);
});
