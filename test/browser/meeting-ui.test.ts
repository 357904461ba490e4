import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverUrl } from '@kaskade/client-sdk/dev-server';
import type { Edge } from '@kaskade/edge';
import { prepareRecordedMedia, RtpBot } from '@kaskade/load-tools';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserName, launchBrowser } from '../helpers/browsers.ts';
import {
  ALL_GRANTS,
  eventually,
  expectNoMediaObjects,
  startEdge,
  TEST_SECRET,
  token,
} from '../helpers/edge.ts';
import { startHarnessServer } from '../helpers/media-checks.ts';
import { createTestHost, type TestHost } from '../helpers/netns.ts';

const SPEAKING_DBOV = -20;
const SILENT_DBOV = -127;
/** The recording's simulcast widths (loadtest/lib/recorded-media.ts): layer 0 and the top layer. */
const THUMBNAIL_WIDTH = 320;
const STAGE_WIDTH = 1280;

let host: TestHost;
let edge: Edge;
let web: FastifyInstance;
let media: ReturnType<typeof prepareRecordedMedia>;

beforeAll(async () => {
  // Firefox will not do ICE with 127.0.0.1: the edge's media takes the host side of a veth
  // pair this test creates (a non-loopback address); its HTTP stays on loopback.
  host = await createTestHost();
  edge = await startEdge({ KASKADE_RTC_LISTEN_IP: host.gateway });
  web = await startHarnessServer({ kind: 'edge', edgeUrl: edge.url, jwtSecret: TEST_SECRET });
  media = prepareRecordedMedia(mkdtempSync(join(tmpdir(), 'kaskade-media-')), 4);
}, 60_000);

afterAll(async () => {
  await web?.close();
  await edge?.stop();
  await host?.destroy();
});

interface TileView {
  id: string;
  video: string;
  reason: string;
  /** The initials shown, when the avatar is visible. */
  avatar: string | null;
  pinned: boolean;
}

interface MeetingView {
  stage: TileView[];
  gallery: TileView[];
  forwarding: Record<string, { on: boolean; reason?: string }>;
  askedN: number | undefined;
  pinned: string[];
  /** Per remote camera: decoded frames and the width of the last decoded frame. */
  cameras: Record<string, { frames: number; width: number }>;
}

/** What the demo page shows and what its SDK says, read in the page. */
async function view(page: Page): Promise<MeetingView> {
  // As JSON: WebDriver BiDi (Firefox) sends an object met twice (the SDK shares one frozen
  // `{ on: true }`) as a reference that puppeteer reads back as undefined.
  const json = await page.evaluate(async () => {
    const w = window as unknown as {
      kaskadeMeeting: { forwarding: Map<string, unknown>; layout: { askedN: number } };
      kaskadeRoom: {
        pinned: string[];
        tracks: Map<string, { id: string; kind: string; source: string }>;
        getTrackStats(id: string): Promise<Map<string, Record<string, number | string>>>;
      };
    };
    const tiles = (selector: string) =>
      [...document.querySelectorAll<HTMLElement>(`${selector} .tile`)].map((t) => {
        const avatar = t.querySelector<HTMLElement>('.avatar')!;
        return {
          id: t.dataset.participant!,
          video: t.dataset.video!,
          reason: t.dataset.reason!,
          avatar: getComputedStyle(avatar).display === 'none' ? null : avatar.textContent,
          pinned: t.classList.contains('pinned'),
        };
      });
    const cameras: Record<string, { frames: number; width: number }> = {};
    for (const track of w.kaskadeRoom.tracks.values()) {
      if (track.kind !== 'video') continue;
      const stats = [...(await w.kaskadeRoom.getTrackStats(track.id)).values()];
      const inbound = stats.find((s) => s.type === 'inbound-rtp');
      cameras[track.id] = {
        frames: Number(inbound?.framesDecoded ?? 0),
        width: Number(inbound?.frameWidth ?? 0),
      };
    }
    return JSON.stringify({
      stage: tiles('#stage'),
      gallery: tiles('#gallery'),
      forwarding: Object.fromEntries(w.kaskadeMeeting.forwarding),
      askedN: w.kaskadeMeeting.layout.askedN,
      pinned: [...w.kaskadeRoom.pinned],
      cameras,
    });
  });
  return JSON.parse(json) as MeetingView;
}

/** Opens the demo page and joins `room` as a viewer only (no camera: the browsers stay light). */
async function joinDemo(page: Page, room: string, name: string): Promise<void> {
  page.on('console', (m) => {
    if (m.type() !== 'log' && m.type() !== 'debug' && m.type() !== 'info')
      console.log(`[page ${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`[page error] ${String(e)}`));
  await page.goto(`${serverUrl(web)}/?room=${room}`);
  await page.$eval('#name', (input) => {
    (input as HTMLInputElement).value = '';
  });
  await page.type('#name', name);
  await page.$eval('#audience', (box) => {
    (box as HTMLInputElement).checked = true;
  });
  await page.click('#join');
  await page.waitForFunction(() => 'kaskadeMeeting' in window, { timeout: 15_000 });
}

describe.each<BrowserName>(['chromium', 'firefox'])('the demo meeting page in %s', (browserName) => {
  it('stage, gallery and last-N: the speaker on the stage at the top layer, the others as thumbnails or avatars; pins', async () => {
    const room = `meeting-${browserName}`;
    const browser = await launchBrowser(browserName);
    const bots: RtpBot[] = [];
    try {
      const page = await browser.newPage();
      await joinDemo(page, room, 'Viewer');
      const join = async (identity: string, name: string) => {
        const bot = await RtpBot.join(
          edge.url,
          await token(identity, room, ALL_GRANTS, { name }),
          host.gateway,
        );
        bots.push(bot);
        await bot.publishRecorded(media);
        bot.setAudioLevel(SILENT_DBOV);
        return bot;
      };
      const alice = await join('alice', 'Alice Archer');
      const bob = await join('bob', 'Bob Brown');
      const camera = (bot: RtpBot) => `${bot.id}/camera`;
      const ids = (tiles: TileView[]) => tiles.map((t) => t.id);
      const tileOf = (v: MeetingView, bot: RtpBot) => [...v.stage, ...v.gallery].find((t) => t.id === bot.id);
      /** One speaks until the page puts it on the stage, then falls silent. */
      const speak = async (bot: RtpBot) => {
        bot.setAudioLevel(SPEAKING_DBOV);
        await eventually(async () => expect(ids((await view(page)).stage)).toEqual([bot.id]), 10_000, 100);
        bot.setAudioLevel(SILENT_DBOV);
      };

      // Last-N follows the gallery: the stage and one thumbnail, both forwarded.
      await eventually(
        async () => {
          const v = await view(page);
          expect(v.askedN).toBe(2);
          expect(v.forwarding).toEqual({ [camera(alice)]: { on: true }, [camera(bob)]: { on: true } });
          expect(v.cameras[camera(alice)]?.frames).toBeGreaterThan(0);
          expect(v.cameras[camera(bob)]?.frames).toBeGreaterThan(0);
        },
        30_000,
        250,
      );
      await speak(alice);

      // The selector caps last-N at 1: the speaker on, the other off with an avatar.
      await page.select('#last-n', '1');
      const expectOnly = async (on: RtpBot, off: RtpBot, initials: string) => {
        await eventually(
          async () => {
            const v = await view(page);
            expect(v.askedN).toBe(1);
            expect(v.forwarding).toEqual({
              [camera(on)]: { on: true },
              [camera(off)]: { on: false, reason: 'notInLastN' },
            });
            expect(tileOf(v, on)).toMatchObject({ video: 'on', avatar: null });
            expect(tileOf(v, off)).toMatchObject({ video: 'off', reason: 'notInLastN', avatar: initials });
          },
          10_000,
          200,
        );
        // Paused at the edge: once the frames in flight are in, the one off decodes nothing new.
        await new Promise((r) => setTimeout(r, 1000));
        const v = await view(page);
        await new Promise((r) => setTimeout(r, 1500));
        const later = await view(page);
        expect(later.cameras[camera(off)]?.frames).toBe(v.cameras[camera(off)]?.frames);
        expect(later.cameras[camera(on)]!.frames).toBeGreaterThan(v.cameras[camera(on)]!.frames);
      };
      await expectOnly(alice, bob, 'BB');
      expect(ids((await view(page)).gallery)).toEqual([bob.id]);

      // Another speaks: the stage changes, and last-N with it.
      await speak(bob);
      await expectOnly(bob, alice, 'AA');

      // Pinning Alice (in the gallery) puts her on the stage and on, ahead of the speaker.
      await page.$eval(`#gallery .tile[data-participant="${alice.id}"] .pin`, (b) =>
        (b as HTMLElement).click(),
      );
      await eventually(async () => {
        const v = await view(page);
        expect(v.pinned).toEqual([alice.id]);
        expect(v.stage).toMatchObject([{ id: alice.id, pinned: true }]);
      });
      await expectOnly(alice, bob, 'BB');
      await page.$eval(`#stage .tile[data-participant="${alice.id}"] .pin`, (b) =>
        (b as HTMLElement).click(),
      );
      await eventually(async () => expect((await view(page)).pinned).toEqual([]));

      // Both forwarded again: the stage tile gets the top layer, the thumbnail the lowest.
      await page.select('#last-n', 'auto');
      const expectSizes = async (staged: RtpBot, thumbnail: RtpBot) =>
        eventually(
          async () => {
            const v = await view(page);
            expect(ids(v.stage)).toEqual([staged.id]);
            expect(v.forwarding[camera(thumbnail)]).toEqual({ on: true });
            expect(v.cameras[camera(staged)]?.width).toBe(STAGE_WIDTH);
            expect(v.cameras[camera(thumbnail)]?.width).toBe(THUMBNAIL_WIDTH);
          },
          45_000,
          500,
        );
      await expectSizes(bob, alice);
      await speak(alice);
      await expectSizes(alice, bob);

      await page.click('#leave');
      await page.waitForSelector('#join-form:not([hidden])', { timeout: 5000 });
    } finally {
      for (const bot of bots) await bot.close();
      await browser.close();
    }
    await expectNoMediaObjects(edge);
  }, 180_000);
});
