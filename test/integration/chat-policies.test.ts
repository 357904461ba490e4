import { RequestError } from '@kaskade/client-sdk';
import { RtpBot } from '@kaskade/load-tools';
import { issueToken } from '@kaskade/node-toolkit';
import type { ChatMessage, Grants, RoomSettings, SdkErrorCode } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { GUEST, MODERATOR, useModerationMesh } from '../helpers/moderation.ts';

/**
 * The room policies chat follows (`chat`, `audienceChat`), set by a moderator over its own
 * signaling with the real setPolicies action, enforced by the sender's edge, with
 * participants on edges of two regions.
 */
const m = useModerationMesh();
const AUDIENCE: Grants = { publish: false, subscribe: true };

/** A participant on an edge of `region`, keeping the chat messages and settings it is told. */
async function join(
  identity: string,
  room: string,
  region: string,
  grants: Grants,
  claims: { role?: 'stage' | 'audience'; lecture?: boolean } = {},
) {
  const edge = m.mesh.edges.find((e) => e.region === region)!;
  const token = await issueToken(
    { identity, name: identity, room, grants, node: edge.nodeId, ttlSeconds: 60, ...claims },
    { secret: m.mesh.edgeJwtSecret },
  );
  const bot = await RtpBot.join(edge.url, token);
  const messages: ChatMessage[] = [];
  const settings: RoomSettings[] = [];
  bot.channel.on('chatMessage', (message) => messages.push(message));
  bot.channel.on('settingsChanged', (s) => settings.push(s));
  const request = bot.channel.request.bind(bot.channel);
  return { bot, nodeId: edge.nodeId, messages, settings, request, texts: () => messages.map((x) => x.text) };
}

function expectCode(promise: Promise<unknown>, code: SdkErrorCode) {
  return expect(promise).rejects.toSatisfy((e) => e instanceof RequestError && e.code === code);
}

describe('chat policies across two regions', () => {
  it("chat: 'moderators' refuses a participant's message (FORBIDDEN, nothing delivered) and lets a moderator write", async () => {
    const room = 'policy-chat';
    const host = await join('host', room, 'eu', MODERATOR);
    const guest = await join('guest', room, 'us', GUEST);
    expect(host.nodeId).not.toBe(guest.nodeId);
    try {
      const { settings } = await host.request('setPolicies', { policies: { chat: 'moderators' } });
      expect(settings.policies.chat).toBe('moderators');
      // Both edges apply it and tell their participants.
      for (const p of [host, guest])
        await eventually(() => expect(p.settings.at(-1)?.policies.chat).toBe('moderators'));

      await expectCode(guest.request('sendChat', { text: 'may I?' }), 'FORBIDDEN');
      await host.request('sendChat', { text: 'the host speaks' });
      await eventually(() => expect(guest.texts()).toContain('the host speaks'));
      expect(host.texts()).not.toContain('may I?');
      const { messages } = await host.request('chatHistory', { channel: 'general' });
      expect(messages.map((x) => x.text)).toEqual(['the host speaks']);

      // Back to everyone: the guest writes again, across the regions.
      await host.request('setPolicies', { policies: { chat: 'everyone' } });
      await eventually(() => expect(guest.settings.at(-1)?.policies.chat).toBe('everyone'));
      await guest.request('sendChat', { text: 'thanks' });
      await eventually(() => expect(host.texts()).toContain('thanks'));
    } finally {
      await host.bot.close();
      await guest.bot.close();
    }
  });

  it('a lecture with audienceChat off: the audience is refused in general but asks in Q&A; speakers still chat', async () => {
    const room = 'policy-lecture';
    const prof = await join('prof', room, 'eu', MODERATOR, { lecture: true, role: 'stage' });
    const speaker = await join('speaker', room, 'eu', GUEST, { lecture: true, role: 'stage' });
    const student = await join('student', room, 'us', AUDIENCE, { lecture: true, role: 'audience' });
    try {
      await prof.request('openChannel', { id: 'qa', name: 'Q&A', kind: 'qa' });
      // Before the policy, the audience may chat: the refusal below is the policy's.
      await student.request('sendChat', { text: 'hello' });
      await eventually(() => expect(prof.texts()).toContain('hello'));

      await prof.request('setPolicies', { policies: { audienceChat: false } });
      for (const p of [prof, speaker, student])
        await eventually(() => expect(p.settings.at(-1)?.policies.audienceChat).toBe(false));

      await expectCode(student.request('sendChat', { text: 'still here' }), 'FORBIDDEN');
      const { message } = await student.request('sendChat', { channel: 'qa', text: 'a question?' });
      expect(message.channel).toBe('qa');
      await eventually(() => expect(prof.texts()).toContain('a question?'));
      await speaker.request('sendChat', { text: 'from the stage' });
      await eventually(() => expect(student.texts()).toContain('from the stage'));
      expect(prof.texts()).not.toContain('still here');
    } finally {
      for (const p of [prof, speaker, student]) await p.bot.close();
    }
  });
});
