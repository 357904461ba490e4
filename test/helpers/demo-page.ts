import type { Page } from 'puppeteer-core';
import { expect } from 'vitest';
import { eventually } from './edge.ts';

/**
 * Driving the demo page (client-sdk/demo) as a person would: its form, buttons and panels,
 * reading back what it shows (the DOM) and, for media, what its SDK room receives.
 */

/** Inbound RTP of one remote participant's track at this page: bytes and decoded frames. */
export interface TrackFlow {
  bytes: number;
  frames: number;
  paused: boolean;
}

export async function openDemo(page: Page, baseUrl: string, room: string, region: string): Promise<void> {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') console.log(`[page ${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => console.log(`[page error] ${String(e)}`));
  await page.setViewport({ width: 1366, height: 820 });
  await page.goto(`${baseUrl}/?room=${room}&region=${region}`);
  // No native dialogs in a headless test (ending the meeting asks to confirm).
  await page.evaluate(() => {
    window.confirm = () => true;
  });
}

/** Fills the join form and submits it (`host`: ticks "join as host"). */
export async function submitJoin(page: Page, name: string, { host = false } = {}): Promise<void> {
  await page.$eval('#name', (input) => {
    (input as HTMLInputElement).value = '';
  });
  await page.type('#name', name);
  if (host) await page.click('#host');
  await page.click('#join');
}

/** Waits until the page is in the meeting; answers its participant id. */
export async function inMeeting(page: Page, timeoutMs = 20_000): Promise<string> {
  await page.waitForSelector('#meeting:not([hidden])', { timeout: timeoutMs });
  return page.evaluate(
    () => (window as unknown as { kaskadeRoom: { self: { id: string } } }).kaskadeRoom.self.id,
  );
}

/** Clicks the first element matching `selector` (inside the page: works the same in both browsers). */
export async function click(page: Page, selector: string): Promise<void> {
  await page.waitForSelector(selector, { timeout: 15_000 });
  await page.$eval(selector, (el) => (el as HTMLElement).click());
}

export async function text(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => el.textContent ?? '');
}

export async function texts(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (els) => els.map((el) => el.textContent ?? ''));
}

export async function attr(page: Page, selector: string, name: string): Promise<string | null> {
  return page.$eval(selector, (el, n) => el.getAttribute(n), name);
}

export async function tab(page: Page, name: 'people' | 'chat' | 'breakouts'): Promise<void> {
  await click(page, `.tab[data-tab="${name}"]`);
}

/** Types into an input and submits its form. */
export async function typeAndSubmit(page: Page, input: string, value: string): Promise<void> {
  await page.$eval(
    input,
    (el, v) => {
      const field = el as HTMLInputElement;
      field.value = v;
      field.form!.requestSubmit();
    },
    value,
  );
}

/** Sends a chat message in the channel shown, as the person would. */
export async function say(page: Page, message: string): Promise<void> {
  await typeAndSubmit(page, '#chat-text', message);
  await eventually(
    async () => expect(await texts(page, '#chat-messages .message .text')).toContain(message),
    10_000,
  );
}

/** Opens the chat tab of `channel`. */
export async function chatChannel(page: Page, channel: string): Promise<void> {
  await tab(page, 'chat');
  await click(page, `#chat-tabs button[data-channel="${channel}"]`);
  await page.waitForSelector(`#chat-tabs button.active[data-channel="${channel}"]`, { timeout: 5000 });
}

/** The messages the chat panel shows now. */
export function shownMessages(page: Page): Promise<string[]> {
  return texts(page, '#chat-messages .message .text');
}

/** What this page's room receives of `participantId`'s `source`. */
export async function flowFrom(page: Page, participantId: string, source: string): Promise<TrackFlow | null> {
  const json = await page.evaluate(async (id) => {
    const room = (
      window as unknown as {
        kaskadeRoom: {
          tracks: Map<string, { paused: boolean }>;
          getTrackStats(id: string): Promise<Map<string, Record<string, number | string>>>;
        };
      }
    ).kaskadeRoom;
    const track = room.tracks.get(id);
    if (!track) return 'null';
    const inbound = [...(await room.getTrackStats(id)).values()].find((s) => s.type === 'inbound-rtp');
    return JSON.stringify({
      bytes: Number(inbound?.bytesReceived ?? 0),
      frames: Number(inbound?.framesDecoded ?? 0),
      paused: track.paused,
    });
  }, `${participantId}/${source}`);
  return JSON.parse(json) as TrackFlow | null;
}

/** Where this page's room is and which remote tracks it has: said when a track is missing. */
function roomPicture(page: Page): Promise<string> {
  return page.evaluate(() => {
    const room = (
      window as unknown as { kaskadeRoom: { name: string; state: string; tracks: Map<string, unknown> } }
    ).kaskadeRoom;
    return `room ${room.name} (${room.state}) has tracks [${[...room.tracks.keys()].join(', ')}]`;
  });
}

/** `page` receives `participantId`'s camera (decoded frames growing) and microphone (bytes growing). */
export async function expectMediaFrom(page: Page, participantId: string, timeoutMs = 45_000): Promise<void> {
  const sample = async () => {
    const camera = await flowFrom(page, participantId, 'camera');
    const microphone = await flowFrom(page, participantId, 'microphone');
    if (!camera || !microphone) {
      const missing = !camera ? 'camera' : 'microphone';
      expect.fail(`the ${missing} track of ${participantId} is missing: ${await roomPicture(page)}`);
    }
    return { camera, microphone };
  };
  const first = await eventually(sample, timeoutMs, 250);
  await eventually(
    async () => {
      const now = await sample();
      expect(now.camera.frames).toBeGreaterThan(first.camera.frames + 10);
      expect(now.microphone.bytes).toBeGreaterThan(first.microphone.bytes);
    },
    timeoutMs,
    250,
  );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `/tmp/kaskade-demo-${name}.png` });
}
