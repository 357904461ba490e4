import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serverUrl } from '../../client-sdk/dev-server.ts';
import { type EdgeProcess, spawnEdge } from '../../scripts/lib/edge-process.ts';
import { launchBrowser } from '../helpers/browsers.ts';
import { eventually, TEST_SECRET, token } from '../helpers/edge.ts';
import { expectReceivingFrom, harness, openHarness, startHarnessServer } from '../helpers/media-checks.ts';
import { createTestHost, type TestHost } from '../helpers/netns.ts';

let host: TestHost;
let edge: EdgeProcess;
let web: FastifyInstance;
let firefox: Browser;
let chromium: Browser;

beforeAll(async () => {
  // Firefox will not pair with a 127.0.0.1 server: the edge runs on a test host of its own.
  host = await createTestHost();
  edge = await spawnEdge({
    host: host.address,
    netns: host.name,
    env: { KASKADE_JWT_SECRET: TEST_SECRET, KASKADE_ROOM_EMPTY_GRACE_MS: '200', KASKADE_LOG_LEVEL: 'warn' },
    log: (line) => console.log(`[edge] ${line}`),
  });
  web = await startHarnessServer({ kind: 'edge', edgeUrl: edge.url, jwtSecret: TEST_SECRET });
  [firefox, chromium] = await Promise.all([launchBrowser('firefox'), launchBrowser('chromium')]);
}, 120_000);

afterAll(async () => {
  await firefox?.close();
  await chromium?.close();
  await web?.close();
  await edge?.stop();
  await host?.destroy();
});

async function join(browser: Browser, identity: string): Promise<{ page: Page; id: string }> {
  const page = await browser.newPage();
  await openHarness(page, serverUrl(web));
  const id = await harness<string>(page, 'join', edge.url, await token(identity, 'mixed-room'));
  return { page, id };
}

it('a Firefox ESR and a Chromium participant see and hear each other', async () => {
  const fox = await join(firefox, 'fox');
  const chrome = await join(chromium, 'chrome');
  await expectReceivingFrom(chrome.page, fox.id, 45_000);
  await expectReceivingFrom(fox.page, chrome.id, 45_000);
  await harness(fox.page, 'leave');
  await harness(chrome.page, 'leave');
  // The edge is another process: its census comes over HTTP, from the workers' dumps.
  await eventually(async () => {
    const node = (await (await fetch(`${edge.url}/v1/node`)).json()) as {
      workers: { routers: number; transports: number; producers: number; consumers: number }[];
    };
    const [worker] = node.workers;
    expect(worker).toMatchObject({ routers: 0, transports: 0, producers: 0, consumers: 0 });
  }, 5000);
}, 120_000);
