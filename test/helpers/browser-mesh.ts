import { serverUrl } from '@kaskade/client-sdk/dev-server';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { type BrowserName, launchBrowser } from './browsers.ts';
import { expectReceivingFrom, harness, joinInNewPage, startHarnessServer } from './media-checks.ts';
import { createTestHost, type TestHost } from './netns.ts';

/** Events an application must not see when someone's edge goes away (drained or crashed). */
export const DISRUPTIONS = [
  'participantLeft',
  'participantJoined',
  'trackRemoved',
  'trackAdded',
  'disconnected',
];

/** A local mesh of one edge per region (eu, us), with a browser per participant and the harness server. */
export interface BrowserMesh {
  readonly mesh: LocalMesh;
  /**
   * The call the edge-loss tests start from: `mover` joins `room` in eu (browser 0) and
   * `stayer` in us (browser 1), each is on its region's edge, receives the other and keeps
   * its tracks across a move; `eventsBefore` counts the events each had seen by then.
   */
  joinPair(
    room: string,
    mover: string,
  ): Promise<{ mover: Joined; stayer: Joined; eventsBefore: { mover: number; stayer: number } }>;
}

export interface Joined {
  page: Page;
  id: string;
}

/**
 * Starts a BrowserMesh before the tests of the calling suite and stops it after them.
 * `edgeEnv` adds to the edges' environment.
 */
export function useBrowserMesh(name: BrowserName, edgeEnv: Record<string, string> = {}): BrowserMesh {
  let mesh: LocalMesh | undefined;
  let web: FastifyInstance | undefined;
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
      edgeEnv: { KASKADE_LOG_LEVEL: 'warn', KASKADE_ROOM_EMPTY_GRACE_MS: '300', ...edgeEnv },
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

  /** Joins `room` through the control plane in `region`, in browser number `browser`. */
  const join = (who: string, room: string, region: string, browser: number): Promise<Joined> =>
    joinInNewPage(browsers[browser]!, serverUrl(web!), 'joinVia', room, who, region);

  async function joinPair(room: string, moverName: string) {
    const mover = await join(moverName, room, 'eu', 0);
    const stayer = await join('Stayer', room, 'us', 1);
    expect(await harness(mover.page, 'node')).toBe('edge-eu-1');
    expect(await harness(stayer.page, 'node')).toBe('edge-us-1');
    await expectReceivingFrom(mover.page, stayer.id, 45_000);
    await expectReceivingFrom(stayer.page, mover.id, 45_000);
    const eventsBefore = {
      mover: (await harness<string[]>(mover.page, 'events')).length,
      stayer: (await harness<string[]>(stayer.page, 'events')).length,
    };
    expect(await harness<string[]>(mover.page, 'keepTracks')).toHaveLength(2);
    expect(await harness<string[]>(stayer.page, 'keepTracks')).toHaveLength(2);
    return { mover, stayer, eventsBefore };
  }

  return {
    get mesh() {
      if (!mesh) throw new Error('the browser mesh is not started (use it inside a test)');
      return mesh;
    },
    joinPair,
  };
}
