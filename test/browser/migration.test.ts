import { serverUrl } from '@kaskade/client-sdk/dev-server';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserName, launchBrowser } from '../helpers/browsers.ts';
import { eventually } from '../helpers/edge.ts';
import { FrameGapMeter } from '../helpers/frame-gaps.ts';
import { expectReceivingFrom, harness, openHarness, startHarnessServer } from '../helpers/media-checks.ts';
import { createTestHost, type TestHost } from '../helpers/netns.ts';

/** Events an application must not see when someone migrates (itself included). */
const DISRUPTIONS = ['participantLeft', 'participantJoined', 'trackRemoved', 'trackAdded', 'disconnected'];

describe.each<BrowserName>(['chromium', 'firefox'])('drain with migration in %s', (name) => {
  let mesh: LocalMesh;
  let web: FastifyInstance;
  /** One browser per participant: each page is in the foreground (a background tab's timers are throttled). */
  const browsers: Browser[] = [];
  const hosts: TestHost[] = [];

  beforeAll(async () => {
    // Firefox will not do ICE with 127.0.0.1: each edge's media takes a non-loopback address
    // of this machine (the host side of a veth pair of its own), its HTTP stays on loopback.
    for (let i = 0; i < 2; i++) hosts.push(await createTestHost());
    const rtcHost = new Map([
      ['edge-eu-1', hosts[0]!.gateway],
      ['edge-us-1', hosts[1]!.gateway],
    ]);
    mesh = await startLocalMesh({
      edgesPerRegion: 1,
      edgeEnv: {
        KASKADE_LOG_LEVEL: 'warn',
        KASKADE_ROOM_EMPTY_GRACE_MS: '300',
        KASKADE_SHUTDOWN_TIMEOUT_MS: '20000',
      },
      edgeEnvFor: (nodeId) => ({ KASKADE_RTC_LISTEN_IP: rtcHost.get(nodeId)! }),
      controlPlaneEnv: { KASKADE_LOG_LEVEL: 'warn' },
    });
    web = await startHarnessServer({
      kind: 'control-plane',
      url: mesh.controlPlane.url,
      appJwtSecret: mesh.appJwtSecret,
      regions: mesh.regions,
    });
    for (let i = 0; i < 2; i++) browsers.push(await launchBrowser(name));
  }, 120_000);

  afterAll(async () => {
    for (const browser of browsers.splice(0)) await browser.close();
    await web?.close();
    await mesh?.stop();
    for (const host of hosts.splice(0)) await host.destroy();
  });

  async function joinRegion(
    who: string,
    region: string,
    browser: Browser,
  ): Promise<{ page: Page; id: string }> {
    const page = await browser.newPage();
    await openHarness(page, serverUrl(web));
    const id = await harness<string>(page, 'joinVia', `migrate-${name}`, who, region);
    return { page, id };
  }

  it('a publishing participant on a draining edge migrates and keeps seeing and being seen, in the same tracks', async () => {
    const mover = await joinRegion('Mover', 'eu', browsers[0]!);
    const stayer = await joinRegion('Stayer', 'us', browsers[1]!);
    expect(await harness(mover.page, 'node')).toBe('edge-eu-1');
    expect(await harness(stayer.page, 'node')).toBe('edge-us-1');
    await expectReceivingFrom(mover.page, stayer.id, 45_000);
    await expectReceivingFrom(stayer.page, mover.id, 45_000);
    const before = {
      mover: (await harness<string[]>(mover.page, 'events')).length,
      stayer: (await harness<string[]>(stayer.page, 'events')).length,
    };
    expect(await harness<string[]>(mover.page, 'keepTracks')).toHaveLength(2);
    expect(await harness<string[]>(stayer.page, 'keepTracks')).toHaveLength(2);
    const meters = { mover: new FrameGapMeter(mover.page), stayer: new FrameGapMeter(stayer.page) };

    // The operator drains the mover's edge: it is told to migrate (to the other edge, the only one left).
    const drained = mesh.edges.find((e) => e.nodeId === 'edge-eu-1')!;
    const exited = new Promise<number | null>((resolve) => drained.child.once('exit', resolve));
    const response = await fetch(`${drained.operatorUrl}/v1/drain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mesh.operatorToken}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ draining: true, notified: 1, unplaced: 0 });
    await eventually(
      async () => expect(await harness<string[]>(mover.page, 'events')).toContain('migrated'),
      20_000,
    );
    expect(await exited).toBe(0); // empty: it exits long before its 20 s deadline
    await new Promise((r) => setTimeout(r, 1000)); // the gap meters see a while after the switch
    await expectReceivingFrom(mover.page, stayer.id, 20_000);
    await expectReceivingFrom(stayer.page, mover.id, 20_000);
    const gaps = { mover: await meters.mover.stop(), stayer: await meters.stayer.stop() };
    const longest = Object.fromEntries(Object.entries(gaps).map(([who, g]) => [who, g.maxGapMs]));
    console.log(`${name} migration: longest time without a decoded frame (ms) ${JSON.stringify(longest)}`);

    // Same participant, same RemoteTrack objects (their MediaStreams hold the new tracks), nobody saw a leave or join.
    expect(await harness(mover.page, 'selfId')).toBe(mover.id);
    expect(await harness(mover.page, 'sameTracks')).toBe(true);
    expect(await harness(stayer.page, 'sameTracks')).toBe(true);
    const after = {
      mover: (await harness<string[]>(mover.page, 'events')).slice(before.mover),
      stayer: (await harness<string[]>(stayer.page, 'events')).slice(before.stayer),
    };
    for (const events of Object.values(after))
      expect(events.filter((e) => DISRUPTIONS.includes(e))).toEqual([]);
    expect(after.mover).toContain('trackReplaced');
    expect(after.stayer).toContain('trackReplaced');
    for (const { maxGapMs, samples } of Object.values(gaps)) {
      expect(samples).toBeGreaterThan(20);
      // Measured 0-270 ms, Firefox once 1008 ms on a loaded machine; a rejoin without
      // migration (new ICE, DTLS, consumers) costs seconds, so this still tells them apart.
      expect(maxGapMs).toBeLessThan(1500);
    }
    await harness(mover.page, 'leave');
    await harness(stayer.page, 'leave');
  }, 180_000);
});
