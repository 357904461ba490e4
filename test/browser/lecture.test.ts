import { RtpBot } from '@kaskade/load-tools';
import { expect, it } from 'vitest';
import { useChromiumEdge } from '../helpers/browser-edge.ts';
import { eventually, expectNoMediaObjects, token } from '../helpers/edge.ts';
import { harness, joinInNewPage } from '../helpers/media-checks.ts';

const chromium = useChromiumEdge();

it('a browser in the audience raises a hand, is promoted, publishes without rejoining, and is demoted', async () => {
  const room = 'lecture-browser';
  const edge = chromium.edge;
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
  const studentToken = await token(
    'student',
    room,
    { publish: false, subscribe: true },
    { role: 'audience', lecture: true },
  );
  const { page, id: studentId } = await joinInNewPage(
    chromium.browser,
    chromium.baseUrl,
    'join',
    edge.url,
    studentToken,
    { publish: false },
  );
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
