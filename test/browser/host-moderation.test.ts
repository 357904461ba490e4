import { serverUrl } from '@kaskade/client-sdk/dev-server';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserName, launchBrowser } from '../helpers/browsers.ts';
import {
  attr,
  chatChannel,
  click,
  expectMediaFrom,
  flowFrom,
  inMeeting,
  openDemo,
  say,
  screenshot,
  shownMessages,
  submitJoin,
  tab,
  text,
  texts,
  typeAndSubmit,
} from '../helpers/demo-page.ts';
import { eventually } from '../helpers/edge.ts';
import { startMeshHarness } from '../helpers/media-checks.ts';
import { createMediaHosts, type MediaHosts } from '../helpers/netns.ts';

/**
 * The host's day on the demo page, in two real browsers on two edges in two regions: the
 * host (eu) turns the lobby on and admits the guest (us) from it; they chat in general and
 * in a Q&A channel the host opens; the host mutes the guest's microphone forbidding
 * unmuting (the guest cannot unmute), then asks to unmute (the guest does); the host opens
 * a breakout, the guest goes there and comes back; the guest's media and chat work before,
 * in and after the breakout. Then the host ends the meeting. Each browser plays each part.
 *
 * The whole day runs with the host in Chromium. With the roles swapped the run keeps what
 * proves each browser in each role (lobby admit, chat in general across the regions, mute with
 * forbid and ask to unmute, the screen share only Chromium can make, a breakout there and
 * back with media and chat after it, the end) and leaves out what the first order already
 * checks for that browser: the denied second join, the Q&A channel, and the media check
 * before the breakout (the one after the way back is the stronger check).
 */

let media: MediaHosts;
let mesh: LocalMesh;
let web: FastifyInstance;
const browsers = new Map<BrowserName, Browser>();

beforeAll(async () => {
  // Firefox will not do ICE with 127.0.0.1: each edge's media takes a non-loopback address.
  media = await createMediaHosts(2);
  mesh = await startLocalMesh({
    edgesPerRegion: 1,
    edgeEnv: { KASKADE_LOG_LEVEL: 'warn', KASKADE_ROOM_EMPTY_GRACE_MS: '300' },
    edgeEnvFor: media.envFor,
    controlPlaneEnv: { KASKADE_LOG_LEVEL: 'warn' },
  });
  web = await startMeshHarness(mesh);
  for (const name of ['chromium', 'firefox'] as const) browsers.set(name, await launchBrowser(name));
}, 120_000);

afterAll(async () => {
  await Promise.all([...browsers.values()].map((browser) => browser.close()));
  await web?.close();
  await mesh?.stop();
  await media?.destroy();
});

const flowOf = async (page: Page, id: string, source: string) => {
  const flow = await flowFrom(page, id, source);
  expect(flow).not.toBeNull();
  return flow!;
};

/** A second join waits behind the guest (viewer only, in a tab of the guest's browser); the host denies it. */
async function secondJoinDenied(host: Page, guestBrowser: Browser, guest: Page, room: string): Promise<void> {
  const denied = await guestBrowser.newPage();
  await openDemo(denied, serverUrl(web), room, 'eu');
  await denied.$eval('#audience', (box) => {
    (box as HTMLInputElement).checked = true;
  });
  await submitJoin(denied, 'Dora Denied');
  await denied.waitForSelector('#lobby-wait:not([hidden])', { timeout: 20_000 });
  expect(await text(denied, '#lobby-position')).toBe('2');
  await eventually(
    async () => expect(await texts(host, '#lobby-list li .who')).toEqual(['Gus Guest', 'Dora Denied']),
    20_000,
  );
  await click(host, '#lobby-list li:nth-child(2) .deny');
  await denied.waitForSelector('#join-form:not([hidden])', { timeout: 15_000 });
  expect(await text(denied, '#join-error')).toMatch(/^Not let in/);
  await denied.close();
  await guest.bringToFront(); // a background tab neither renders nor keeps its timers
}

/** The host opens a Q&A channel; the guest asks there, the host upvotes and marks it answered; general keeps its own. */
async function qaChannel(host: Page, guest: Page): Promise<void> {
  await host.$eval('#channel-kind', (el) => {
    (el as HTMLSelectElement).value = 'qa';
  });
  await typeAndSubmit(host, '#channel-name', 'Q&A');
  await host.waitForSelector('#chat-tabs button.active[data-channel="q-a"]', { timeout: 10_000 });
  await guest.waitForSelector('#chat-tabs button[data-channel="q-a"]', { timeout: 10_000 });
  expect(await texts(guest, '#chat-tabs button')).toEqual(['General', 'Q&A']);
  await chatChannel(guest, 'q-a');
  await say(guest, 'When are the slides online?');
  await eventually(
    async () => expect(await shownMessages(host)).toEqual(['When are the slides online?']),
    10_000,
  );
  await click(host, '#chat-messages .message .upvote');
  await eventually(
    async () => expect(await texts(guest, '#chat-messages .message .upvote')).toEqual(['▲ 1']),
    10_000,
  );
  await click(host, '#chat-messages .message .mark-answered');
  await guest.waitForSelector('#chat-messages .message.answered .answered-tag', { timeout: 10_000 });
  await chatChannel(guest, 'general');
  expect(await shownMessages(guest)).toEqual(['Hello from the US', 'Welcome, from Europe']);
}

describe.each<[BrowserName, BrowserName]>([
  ['chromium', 'firefox'],
  ['firefox', 'chromium'],
])('the demo page: a host in %s, a guest in %s', (hostBrowser, guestBrowser) => {
  // The full day with the host in Chromium; the swapped order runs what proves the roles (see above).
  const full = hostBrowser === 'chromium';
  const day = full
    ? 'lobby with a denied second join, chat in two channels, mute with forbid and ask to unmute, a breakout and back, end'
    : 'lobby, chat, mute with forbid and ask to unmute, screen share stopped, a breakout and back, end';
  it(day, async () => {
    const room = `host-${hostBrowser}`;
    const shot = (page: Page, step: string, who: string, browser: BrowserName) =>
      screenshot(page, `${room}-${step}-${who}-${browser}`);
    const host = await browsers.get(hostBrowser)!.newPage();
    const guest = await browsers.get(guestBrowser)!.newPage();
    try {
      // The host joins in eu and turns the lobby on.
      await openDemo(host, serverUrl(web), room, 'eu');
      await submitJoin(host, 'Hana Host', { host: true });
      await inMeeting(host);
      expect(await attr(host, '#room-label', 'data-edge')).toMatch(/^edge-eu-1/);
      expect(await host.$eval('#host-tools', (el) => (el as HTMLElement).hidden)).toBe(false);
      await click(host, '#lobby-on');
      await eventually(async () =>
        expect(await host.$eval('#lobby-on', (el) => (el as HTMLInputElement).checked)).toBe(true),
      );
      await eventually(
        async () =>
          expect(
            await host.evaluate(
              () =>
                (window as unknown as { kaskadeRoom: { settings: { policies: { lobby: boolean } } } })
                  .kaskadeRoom.settings.policies.lobby,
            ),
          ).toBe(true),
        10_000,
      );

      // The guest joins in us and waits in the lobby; the host admits them from the list.
      await openDemo(guest, serverUrl(web), room, 'us');
      await submitJoin(guest, 'Gus Guest');
      await guest.waitForSelector('#lobby-wait:not([hidden])', { timeout: 20_000 });
      expect(await text(guest, '#lobby-position')).toBe('1');
      await shot(guest, 'lobby', 'guest', guestBrowser);
      if (full) await secondJoinDenied(host, browsers.get(guestBrowser)!, guest, room);
      await eventually(
        async () => expect(await texts(host, '#lobby-list li .who')).toEqual(['Gus Guest']),
        20_000,
      );
      await shot(host, 'lobby', 'host', hostBrowser);
      await click(host, '#lobby-list li .admit');
      const guestId = await inMeeting(guest, 30_000);
      const hostId = await inMeeting(host);
      expect(await attr(guest, '#room-label', 'data-edge')).toMatch(/^edge-us-1/);
      await eventually(async () => expect(await host.$('#lobby-list li')).toBeNull(), 10_000);
      expect(await host.$eval('#lobby', (el) => (el as HTMLElement).hidden)).toBe(true);
      if (full) {
        await expectMediaFrom(host, guestId);
        await expectMediaFrom(guest, hostId);
      }
      // The guest has no host tools.
      expect(await guest.$eval('#host-tools', (el) => (el as HTMLElement).hidden)).toBe(true);
      expect(await guest.$(`#people-list li[data-participant="${hostId}"] button[data-action]`)).toBeNull();

      // Chat across the regions in general, then in a Q&A channel the host opens.
      await chatChannel(host, 'general');
      await chatChannel(guest, 'general');
      await say(guest, 'Hello from the US');
      await eventually(async () => expect(await shownMessages(host)).toContain('Hello from the US'), 10_000);
      await say(host, 'Welcome, from Europe');
      await eventually(
        async () => expect(await shownMessages(guest)).toContain('Welcome, from Europe'),
        10_000,
      );
      if (full) await qaChannel(host, guest);
      await shot(host, 'chat', 'host', hostBrowser);
      await shot(guest, 'chat', 'guest', guestBrowser);

      // The host mutes the guest's microphone, forbidding unmuting: the guest cannot unmute.
      await tab(host, 'people');
      await click(host, '#forbid-unmute');
      const guestRow = `#people-list li[data-participant="${guestId}"]`;
      await click(host, `${guestRow} button[data-action="mute-microphone"]`);
      await guest.waitForSelector('#toggle-mic.off[data-forbidden="true"]', { timeout: 10_000 });
      expect(await text(guest, '#toggle-mic')).toBe('Unmute');
      await eventually(
        async () => expect((await flowOf(host, guestId, 'microphone')).paused).toBe(true),
        10_000,
      );
      await host.waitForSelector(`${guestRow} button[data-action="ask-microphone"]`, { timeout: 10_000 });
      await click(guest, '#toggle-mic');
      await guest.waitForSelector('.toast.error', { timeout: 5000 });
      expect(await texts(guest, '.toast.error span')).toEqual([expect.stringMatching(/FORBIDDEN/)]);
      const muted = await flowOf(host, guestId, 'microphone');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await guest.$eval('#toggle-mic', (el) => el.classList.contains('off'))).toBe(true);
      expect((await flowOf(host, guestId, 'microphone')).paused).toBe(true);
      // Muted means no audio: what arrives stays as it was (give or take the packets in flight).
      expect((await flowOf(host, guestId, 'microphone')).bytes - muted.bytes).toBeLessThan(2000);
      await shot(guest, 'muted', 'guest', guestBrowser);

      // The host asks to unmute; the guest does, from the toast, and the host hears them again.
      await click(host, `${guestRow} button[data-action="ask-microphone"]`);
      await guest.waitForSelector('#toggle-mic[data-forbidden="false"]', { timeout: 10_000 });
      await click(guest, '.toast button');
      await guest.waitForSelector('#toggle-mic:not(.off)', { timeout: 10_000 });
      await eventually(
        async () => expect((await flowOf(host, guestId, 'microphone')).paused).toBe(false),
        10_000,
      );
      const unmuted = await flowOf(host, guestId, 'microphone');
      await eventually(
        async () =>
          expect((await flowOf(host, guestId, 'microphone')).bytes).toBeGreaterThan(unmuted.bytes + 2000),
        10_000,
      );

      // Chromium's fake capture shares a screen (Firefox headless has none to share): the host
      // sees it, stops it, and the guest may not share again (the forbid is still ticked).
      if (guestBrowser === 'chromium') {
        await click(guest, '#share-screen');
        await guest.waitForSelector('#share-screen.sharing', { timeout: 10_000 });
        await host.waitForSelector(`#screens .screen-share[data-participant="${guestId}"]`, {
          timeout: 20_000,
        });
        await eventually(
          async () => expect((await flowOf(host, guestId, 'screen')).frames).toBeGreaterThan(10),
          30_000,
          250,
        );
        await shot(host, 'screen', 'host', hostBrowser);
        await click(host, `${guestRow} button[data-action="mute-screen"]`);
        await guest.waitForSelector('#share-screen:not(.sharing)[data-forbidden="true"]', {
          timeout: 10_000,
        });
        await host.waitForSelector('#screens .screen-share', { hidden: true, timeout: 10_000 });
        expect(
          await guest.evaluate(() =>
            (
              window as unknown as { kaskadeRoom: { publications: { source: string }[] } }
            ).kaskadeRoom.publications
              .map((p) => p.source)
              .sort(),
          ),
        ).toEqual(['camera', 'microphone']);
      }

      // Breakouts: one room, everyone (but the host) assigned at random, opened.
      await tab(host, 'breakouts');
      await host.$eval('#breakout-count', (el) => {
        (el as HTMLInputElement).value = '1';
      });
      await click(host, '#breakout-create');
      await host.waitForSelector('#breakout-status[data-status="created"]', { timeout: 10_000 });
      await click(host, '#breakout-random');
      await eventually(
        async () => expect(await texts(host, '#breakout-rooms .breakout .members')).toEqual(['Gus Guest']),
        10_000,
      );
      await shot(host, 'breakouts', 'host', hostBrowser);
      await click(host, '#breakout-open');
      await guest.waitForSelector('#breakout-banner:not([hidden])', { timeout: 30_000 });
      // The room switched once the guest is in (make-before-break: then it leaves the main room).
      await eventually(
        async () => expect(await attr(guest, '#room-label', 'data-room')).not.toBe(room),
        30_000,
      );
      expect(await attr(guest, '#room-label', 'data-room')).toMatch(new RegExp(`^${room}`));
      expect(await text(guest, '#breakout-where')).toMatch(/You are in breakout room/);
      // The guest left the main room for the host.
      await eventually(async () => expect(await host.$(guestRow)).toBeNull(), 15_000);
      // In the breakout: chat works (its own history), the broadcast and the call for help get through.
      await chatChannel(guest, 'general');
      expect(await shownMessages(guest)).toEqual([]);
      await say(guest, 'In the breakout now');
      await typeAndSubmit(host, '#breakout-broadcast-text', 'Two minutes left');
      await guest.waitForFunction(
        () => document.querySelector('#toasts')?.textContent?.includes('Two minutes left'),
        { timeout: 10_000 },
      );
      await click(guest, '#ask-help');
      await host.waitForFunction(
        () => document.querySelector('#toasts')?.textContent?.includes('Gus Guest asks for help in “Room 1”'),
        { timeout: 10_000 },
      );
      await shot(guest, 'breakout', 'guest', guestBrowser);

      // Closed: the guest comes back (no lobby on the way), with media and chat.
      await click(host, '#breakout-close');
      await guest.waitForSelector('#breakout-banner[hidden]', { timeout: 30_000 });
      await eventually(async () => expect(await attr(guest, '#room-label', 'data-room')).toBe(room), 30_000);
      // Back in the main room as whom the edge says (a return is a new join of the room).
      const guestBack = await guest.evaluate(
        () => (window as unknown as { kaskadeRoom: { self: { id: string } } }).kaskadeRoom.self.id,
      );
      await host.waitForSelector(`#people-list li[data-participant="${guestBack}"]`, { timeout: 30_000 });
      await expectMediaFrom(host, guestBack);
      await expectMediaFrom(guest, hostId);
      await chatChannel(host, 'general');
      await chatChannel(guest, 'general');
      await say(guest, 'Back in the main room');
      await eventually(
        async () => expect(await shownMessages(host)).toContain('Back in the main room'),
        10_000,
      );
      expect(await shownMessages(guest)).toEqual([
        'Hello from the US',
        'Welcome, from Europe',
        'Back in the main room',
      ]);
      await shot(host, 'back', 'host', hostBrowser);

      // The host ends the meeting: the guest is out, told why.
      await tab(host, 'people');
      await click(host, '#end-meeting');
      await guest.waitForSelector('#join-form:not([hidden])', { timeout: 15_000 });
      expect(await text(guest, '#join-error')).toMatch(/meeting ended/);
    } finally {
      await host.close();
      await guest.close();
    }
  }, 300_000);
});
