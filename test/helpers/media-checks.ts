import { fileURLToPath } from 'node:url';
import { type DemoBackend, startDemoServer } from '@kaskade/client-sdk/dev-server';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { expect } from 'vitest';
import { eventually } from './edge.ts';

export interface Inbound {
  id: string;
  from: string;
  kind: 'audio' | 'video';
  source: string;
  bytes: number;
  frames: number;
  frameWidth: number;
  /** Transport protocol of the selected ICE pair (udp or tcp). */
  protocol: string | undefined;
}

/** The demo server with the test pages of test/browser/pages at /extra/. */
export function startHarnessServer(backend: DemoBackend): Promise<FastifyInstance> {
  return startDemoServer({
    backend,
    extraRoot: fileURLToPath(new URL('../browser/pages/', import.meta.url)),
  });
}

export async function openHarness(page: Page, baseUrl: string): Promise<void> {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') console.log(`[page] ${m.text()}`);
  });
  await page.goto(`${baseUrl}/extra/harness.html`);
  await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true);
}

export function harness<T>(page: Page, call: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    (name, params) =>
      (window as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>).harness![name]!(
        ...params,
      ),
    call,
    args,
  ) as Promise<T>;
}

/**
 * Waits until `page` receives audio and video from `fromParticipant` and both keep
 * flowing: inbound bytes grow for both and decoded video frames grow.
 */
export async function expectReceivingFrom(
  page: Page,
  fromParticipant: string,
  timeoutMs = 30_000,
): Promise<void> {
  const sample = async () => {
    const inbound = (await harness<Inbound[]>(page, 'inbound')).filter((i) => i.from === fromParticipant);
    const audio = inbound.find((i) => i.kind === 'audio');
    const video = inbound.find((i) => i.kind === 'video');
    expect(audio, 'an audio track from the peer').toBeDefined();
    expect(video, 'a video track from the peer').toBeDefined();
    return { audio: audio!, video: video! };
  };
  const first = await eventually(
    async () => {
      const s = await sample();
      expect(s.audio.bytes).toBeGreaterThan(0);
      expect(s.video.frames).toBeGreaterThan(0);
      return s;
    },
    timeoutMs,
    250,
  );
  await eventually(
    async () => {
      const s = await sample();
      expect(s.audio.bytes).toBeGreaterThan(first.audio.bytes);
      expect(s.video.bytes).toBeGreaterThan(first.video.bytes);
      expect(s.video.frames).toBeGreaterThan(first.video.frames + 10);
    },
    timeoutMs,
    250,
  );
}

/**
 * Waits until `page` receives audio from `fromParticipant` and it keeps flowing: its
 * inbound bytes are counted, then grow by a second of a bot's microphone at least.
 */
export async function expectAudioFrom(
  page: Page,
  fromParticipant: string,
  timeoutMs = 30_000,
): Promise<void> {
  const bytes = async () => {
    const inbound = await harness<Inbound[]>(page, 'inbound');
    const audio = inbound.find((i) => i.from === fromParticipant && i.kind === 'audio');
    expect(audio, 'an audio track from the peer').toBeDefined();
    return audio!.bytes;
  };
  const first = await eventually(
    async () => {
      const b = await bytes();
      expect(b).toBeGreaterThan(0);
      return b;
    },
    timeoutMs,
    250,
  );
  await eventually(async () => expect(await bytes()).toBeGreaterThan(first + 3000), timeoutMs, 250);
}

/**
 * Opens the harness of the demo server at `baseUrl` in a new tab of `browser` and joins
 * there: `call` is the harness's join ('join' with an edge URL and token, 'joinVia' through
 * the control plane), answering the participant id.
 */
export async function joinInNewPage(
  browser: Browser,
  baseUrl: string,
  call: 'join' | 'joinVia',
  ...args: unknown[]
): Promise<{ page: Page; id: string }> {
  const page = await browser.newPage();
  await openHarness(page, baseUrl);
  const id = await harness<string>(page, call, ...args);
  return { page, id };
}

/** Each page leaves its room, then each closes. */
export async function leaveAndClose(...pages: Page[]): Promise<void> {
  for (const page of pages) await harness(page, 'leave');
  for (const page of pages) await page.close();
}
