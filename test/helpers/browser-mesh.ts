import { serverUrl } from '@kaskade/client-sdk/dev-server';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { type BrowserName, launchBrowser } from './browsers.ts';
import { expectReceivingFrom, harness, joinInNewPage, startMeshHarness } from './media-checks.ts';
import { createMediaHosts, type MediaHosts } from './netns.ts';

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
  /** Joins `room` through the control plane in `region`, in a new tab of browser number `browser`. */
  join(who: string, room: string, region: string, browser: number, options?: JoinOptions): Promise<Joined>;
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

/** The harness's join options (what to publish, and how). */
export type JoinOptions = Record<string, unknown>;

export interface Joined {
  page: Page;
  id: string;
}

/**
 * Starts a BrowserMesh before the tests of the calling suite and stops it after them.
 * `browsers` names the browser of each participant (one name: two of that kind);
 * `edgeEnv` adds to the edges' environment.
 */
export function useBrowserMesh(
  browserNames: BrowserName | readonly BrowserName[],
  edgeEnv: Record<string, string> = {},
): BrowserMesh {
  let mesh: LocalMesh | undefined;
  let web: FastifyInstance | undefined;
  /** One browser per participant: each page is in the foreground (a background tab's timers are throttled). */
  const browsers: Browser[] = [];
  let media: MediaHosts | undefined;
  const names = typeof browserNames === 'string' ? [browserNames, browserNames] : browserNames;

  beforeAll(async () => {
    // Firefox will not do ICE with 127.0.0.1: each edge's media takes a non-loopback address.
    media = await createMediaHosts(2);
    mesh = await startLocalMesh({
      edgesPerRegion: 1,
      edgeEnv: { KASKADE_LOG_LEVEL: 'warn', KASKADE_ROOM_EMPTY_GRACE_MS: '300', ...edgeEnv },
      edgeEnvFor: media.envFor,
      controlPlaneEnv: { KASKADE_LOG_LEVEL: 'warn' },
    });
    web = await startMeshHarness(mesh);
    for (const name of names) browsers.push(await launchBrowser(name));
  }, 120_000);

  afterAll(async () => {
    // Closing waits for each browser to exit (a Firefox takes 1-2 s): all at once.
    await Promise.all(browsers.splice(0).map((browser) => browser.close()));
    await web?.close();
    await mesh?.stop();
    await media?.destroy();
  });

  const join = (who: string, room: string, region: string, browser: number, options?: JoinOptions) =>
    joinInNewPage(
      browsers[browser]!,
      serverUrl(web!),
      'joinVia',
      room,
      who,
      region,
      ...(options === undefined ? [] : [options]),
    );

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
    join,
    joinPair,
  };
}
