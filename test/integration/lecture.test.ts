import { RequestError } from '@kaskade/client-sdk';
import type { Edge } from '@kaskade/edge';
import { RtpBot } from '@kaskade/load-tools';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, expectNoMediaObjects, startEdge, token } from '../helpers/edge.ts';

let edge: Edge;
beforeAll(async () => {
  edge = await startEdge();
});
afterAll(async () => {
  await edge?.stop();
});

const MODERATOR = { publish: true, subscribe: true, moderate: true };
const AUDIENCE = { publish: false, subscribe: true };

it('lecture mode: 200 audience joins send no per-join notifications; the stage sees the count; moderators page the list', async () => {
  const room = 'lecture-presence';
  const stage = await RtpBot.join(
    edge.url,
    await token('lecturer', room, MODERATOR, { role: 'stage', lecture: true }),
  );
  const stageJoins: string[] = [];
  const counts: number[] = [];
  stage.channel.on('participantJoined', (p) => stageJoins.push(p.id));
  stage.channel.on('participantCount', ({ count }) => counts.push(count));
  expect(stage.joined.lecture).toBe(true);

  const audience: RtpBot[] = [];
  let audienceNotifications = 0;
  for (let wave = 0; wave < 10; wave++) {
    const bots = await Promise.all(
      Array.from({ length: 20 }, async (_, i) =>
        RtpBot.join(
          edge.url,
          await token(`student-${wave}-${i}`, room, AUDIENCE, { role: 'audience', lecture: true }),
        ),
      ),
    );
    for (const bot of bots) {
      bot.channel.on('participantJoined', () => audienceNotifications++);
      bot.channel.on('participantLeft', () => audienceNotifications++);
      // The roster an audience member sees is the stage.
      expect(bot.joined.participants.map((p) => p.identity)).toEqual(['lecturer']);
      expect(bot.joined.self.role).toBe('audience');
    }
    audience.push(...bots);
  }
  await eventually(() => expect(counts.at(-1)).toBe(201), 5000);
  expect(stageJoins).toEqual([]);
  expect(audienceNotifications).toBe(0);

  // Audience members cannot page the list; moderators can, 100 at a time.
  await expect(audience[0]!.channel.request('listParticipants', {})).rejects.toSatisfy(
    (e) => e instanceof RequestError && e.code === 'FORBIDDEN',
  );
  const seen: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await stage.channel.request('listParticipants', { after, limit: 100 });
    seen.push(...page.participants.map((p) => p.identity));
    if (!page.next) break;
    after = page.next;
  }
  expect(seen).toHaveLength(201);
  expect(new Set(seen).size).toBe(201);

  for (const bot of audience) await bot.close();
  await eventually(() => expect(counts.at(-1)).toBe(1), 5000);
  expect(stageJoins).toEqual([]);
  await stage.close();
  await expectNoMediaObjects(edge);
});

it('raise hand, promote, publish without rejoining, demote (bots)', async () => {
  const room = 'lecture-hands';
  const moderator = await RtpBot.join(
    edge.url,
    await token('prof', room, MODERATOR, { role: 'stage', lecture: true }),
  );
  const student = await RtpBot.join(
    edge.url,
    await token('student', room, AUDIENCE, { role: 'audience', lecture: true }),
  );
  const hands: string[] = [];
  moderator.channel.on('handRaised', (h) => hands.push(h.participantId));
  await expect(student.publish('microphone')).rejects.toSatisfy(
    (e) => e instanceof RequestError && e.code === 'FORBIDDEN',
  );
  await expect(moderator.channel.request('raiseHand', {})).rejects.toSatisfy(
    (e) => e instanceof RequestError && e.code === 'INVALID_STATE',
  );
  await student.channel.request('raiseHand', {});
  await eventually(() => expect(hands).toEqual([student.id]));
  expect((await moderator.channel.request('listHands', {})).hands.map((h) => h.participantId)).toEqual([
    student.id,
  ]);
  await expect(
    student.channel.request('setRole', { participantId: student.id, role: 'stage' }),
  ).rejects.toSatisfy((e) => e instanceof RequestError && e.code === 'FORBIDDEN');

  const roles: string[] = [];
  student.channel.on('roleChanged', ({ role }) => roles.push(role));
  await moderator.channel.request('setRole', { participantId: student.id, role: 'stage' });
  await eventually(() => expect(roles).toEqual(['stage']));
  expect((await moderator.channel.request('listHands', {})).hands).toEqual([]); // promotion lowers the hand
  const mic = await student.publish('microphone');
  await eventually(() => expect(moderator.seen.streamAdded).toContain(mic));
  const heard = await moderator.consume({ producerId: mic });
  await eventually(() => expect(heard.packets).toBeGreaterThan(10));

  await moderator.channel.request('setRole', { participantId: student.id, role: 'audience' });
  await eventually(() => expect(roles).toEqual(['stage', 'audience']));
  await eventually(() => expect(moderator.seen.streamClosed).toContain(mic));
  await expect(student.channel.request('createPlainTransport', { direction: 'send' })).rejects.toSatisfy(
    (e) => e instanceof RequestError && e.code === 'FORBIDDEN',
  );
  await student.close();
  await moderator.close();
  await expectNoMediaObjects(edge);
});
