import { serverUrl } from '@kaskade/client-sdk/dev-server';
import type { Edge } from '@kaskade/edge';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser } from './browsers.ts';
import { startEdge, TEST_SECRET, token } from './edge.ts';
import { joinInNewPage, startHarnessServer } from './media-checks.ts';

/** An edge in this process, the harness server in front of it, and one Chromium. */
export interface ChromiumEdge {
  readonly edge: Edge;
  readonly browser: Browser;
  /** The harness server's base URL. */
  readonly baseUrl: string;
  /** Joins `room` as `identity` (all grants) in a new tab; `options` go to the harness's join. */
  join(
    identity: string,
    room: string,
    options?: Record<string, unknown>,
  ): Promise<{ page: Page; id: string }>;
}

/** Starts a ChromiumEdge before the tests of the calling file and stops it after them. */
export function useChromiumEdge(env: Record<string, string> = {}): ChromiumEdge {
  let edge: Edge | undefined;
  let web: FastifyInstance | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    edge = await startEdge(env);
    web = await startHarnessServer({ kind: 'edge', edgeUrl: edge.url, jwtSecret: TEST_SECRET });
    browser = await launchBrowser('chromium');
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await edge?.stop();
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the Chromium edge is not started (use it inside a test)');
    return value;
  };
  return {
    get edge() {
      return started(edge);
    },
    get browser() {
      return started(browser);
    },
    get baseUrl() {
      return serverUrl(started(web));
    },
    join: async (identity, room, options) =>
      joinInNewPage(
        started(browser),
        serverUrl(started(web)),
        'join',
        started(edge).url,
        await token(identity, room),
        ...(options === undefined ? [] : [options]),
      ),
  };
}
