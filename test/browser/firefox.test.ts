import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { serverUrl } from '@kaskade/client-sdk/dev-server';
import { type EdgeProcess, spawnEdge } from '@kaskade/local-mesh';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browsers.ts';
import { eventually, TEST_OPERATOR_TOKEN, TEST_SECRET, token } from '../helpers/edge.ts';
import { expectReceivingFrom, harness, joinInNewPage, startHarnessServer } from '../helpers/media-checks.ts';
import { nodeView } from '../helpers/mesh.ts';
import { scrapeMetric } from '../helpers/metrics.ts';
import { createTestHost, type TestHost } from '../helpers/netns.ts';

let host: TestHost;
let edge: EdgeProcess;
let web: FastifyInstance;
let firefox: Browser;
let chromium: Browser;
const run = promisify(execFile);

beforeAll(async () => {
  // Firefox will not pair with a 127.0.0.1 server: the edge runs on a test host of its own.
  host = await createTestHost();
  edge = await spawnEdge({
    host: host.address,
    netns: host.name,
    env: {
      KASKADE_JWT_SECRET: TEST_SECRET,
      KASKADE_OPERATOR_TOKEN: TEST_OPERATOR_TOKEN,
      KASKADE_ROOM_EMPTY_GRACE_MS: '200',
      // Browsers check consent every ~5 s; 10 s without one is a lost connection (the outage test).
      KASKADE_ICE_CONSENT_TIMEOUT_S: '10',
      KASKADE_LOG_LEVEL: 'warn',
    },
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

async function join(browser: Browser, identity: string, room = 'mixed-room') {
  return joinInNewPage(browser, serverUrl(web), 'join', edge.url, await token(identity, room));
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
    const node = await nodeView(edge.operatorUrl, TEST_OPERATOR_TOKEN);
    const [worker] = node.workers;
    expect(worker).toMatchObject({ routers: 0, transports: 0, producers: 0, consumers: 0 });
  }, 5000);
}, 120_000);

it('a network outage: the edge counts the lost ICE connectivity, and media resumes when the network returns', async () => {
  const a = await join(chromium, 'cut-a', 'outage-room');
  const b = await join(chromium, 'cut-b', 'outage-room');
  await expectReceivingFrom(b.page, a.id, 45_000);
  const failures = () =>
    scrapeMetric(edge.operatorUrl, TEST_OPERATOR_TOKEN, 'kaskade_transport_failures_total', {
      reason: 'ice_disconnected',
    });
  expect(await failures()).toBe(0);

  // The edge's host drops off the network for longer than the consent timeout, then returns.
  await run('ip', ['link', 'set', host.hostInterface, 'down']);
  await new Promise((r) => setTimeout(r, 14_000));
  await run('ip', ['link', 'set', host.hostInterface, 'up']);

  await eventually(async () => expect(await failures()).toBeGreaterThanOrEqual(2), 20_000); // both browsers' transports
  const received = async () =>
    (await harness<{ bytes: number }[]>(b.page, 'inbound')).reduce((n, i) => n + i.bytes, 0);
  const before = await received();
  await eventually(async () => {
    expect(await harness(b.page, 'state')).toBe('connected');
    expect(await received()).toBeGreaterThan(before + 10_000);
  }, 45_000);
  await harness(a.page, 'leave');
  await harness(b.page, 'leave');
}, 120_000);
