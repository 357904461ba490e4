import { fileURLToPath } from 'node:url';
import { type DemoBackend, startDemoServer } from '@kaskade/client-sdk/dev-server';
import type { LocalMesh } from '@kaskade/local-mesh';
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
 * flowing: inbound bytes grow for both and decoded video frames grow. `video: false`:
 * audio only (a participant who publishes no camera).
 */
export async function expectReceivingFrom(
  page: Page,
  fromParticipant: string,
  timeoutMs = 30_000,
  { video: withVideo = true }: { video?: boolean } = {},
): Promise<void> {
  const sample = async () => {
    const inbound = (await harness<Inbound[]>(page, 'inbound')).filter((i) => i.from === fromParticipant);
    const audio = inbound.find((i) => i.kind === 'audio');
    const video = inbound.find((i) => i.kind === 'video');
    expect(audio, 'an audio track from the peer').toBeDefined();
    if (withVideo) expect(video, 'a video track from the peer').toBeDefined();
    return { audio: audio!, video };
  };
  const first = await eventually(
    async () => {
      const s = await sample();
      expect(s.audio.bytes).toBeGreaterThan(0);
      if (s.video) expect(s.video.frames).toBeGreaterThan(0);
      return s;
    },
    timeoutMs,
    250,
  );
  await eventually(
    async () => {
      const s = await sample();
      expect(s.audio.bytes).toBeGreaterThan(first.audio.bytes);
      if (!s.video || !first.video) return;
      expect(s.video.bytes).toBeGreaterThan(first.video.bytes);
      expect(s.video.frames).toBeGreaterThan(first.video.frames + 10);
    },
    timeoutMs,
    250,
  );
}

/**
 * Starts the harness server in front of a local mesh's control plane (the demo's app
 * backend: its /demo/join asks the control plane to place each join).
 */
export function startMeshHarness(mesh: LocalMesh): Promise<FastifyInstance> {
  return startHarnessServer({
    kind: 'control-plane',
    url: mesh.controlPlane.url,
    appJwtSecret: mesh.appJwtSecret,
    regions: mesh.regions,
  });
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
