import { serverUrl } from '@kaskade/client-sdk/dev-server';
import { type LocalMesh, operatorText, startLocalMesh } from '@kaskade/local-mesh';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browsers.ts';
import { eventually } from '../helpers/edge.ts';
import { expectReceivingFrom, harness, openHarness, startHarnessServer } from '../helpers/media-checks.ts';
import { nodeView } from '../helpers/mesh.ts';

let mesh: LocalMesh;
let web: FastifyInstance;
let browser: Browser;

beforeAll(async () => {
  mesh = await startLocalMesh({ edgeEnv: { KASKADE_LOG_LEVEL: 'warn', KASKADE_ROOM_EMPTY_GRACE_MS: '300' } });
  web = await startHarnessServer({
    kind: 'control-plane',
    url: mesh.controlPlane.url,
    appJwtSecret: mesh.appJwtSecret,
    regions: mesh.regions,
  });
  browser = await launchBrowser('chromium');
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await mesh?.stop();
});

async function joinRegion(name: string, region: string): Promise<{ page: Page; id: string; node: string }> {
  const page = await browser.newPage();
  await openHarness(page, serverUrl(web));
  const id = await harness<string>(page, 'joinVia', 'cross-region', name, region);
  return { page, id, node: await harness<string>(page, 'node') };
}

it('two browsers on edges in different regions see and hear each other', async () => {
  const ada = await joinRegion('Ada', 'eu');
  const grace = await joinRegion('Grace', 'us');
  expect(ada.node).toMatch(/^edge-eu-/);
  expect(grace.node).toMatch(/^edge-us-/);
  await expectReceivingFrom(ada.page, grace.id);
  await expectReceivingFrom(grace.page, ada.id);
  await harness(ada.page, 'leave');
  await harness(grace.page, 'leave');
  // Every process serves Prometheus metrics; the control plane counts the nodes it hears.
  const cpMetrics = await operatorText(mesh.controlPlane.operatorUrl, mesh.operatorToken, '/metrics');
  for (const region of ['eu', 'us'])
    expect(cpMetrics).toMatch(
      new RegExp(`^kaskade_nodes\\{kind="edge",state="serving",target_region="${region}"[^}]*\\} 2$`, 'm'),
    );
  for (const node of mesh.edges)
    expect(await operatorText(node.operatorUrl, mesh.operatorToken, '/metrics')).toMatch(
      /^kaskade_participants\{/m,
    );
  // Nothing is left on any edge: no routers, transports, producers, consumers or pipe links.
  for (const edge of mesh.edges) {
    await eventually(async () => {
      const view = await nodeView(edge.operatorUrl, mesh.operatorToken);
      expect(view.workers).toEqual([
        expect.objectContaining({ routers: 0, transports: 0, producers: 0, consumers: 0 }),
      ]);
      expect(view.links).toEqual([]);
    }, 15_000);
  }
});
