import { operatorText } from '@kaskade/local-mesh';
import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { useChromiumEdge } from '../helpers/browser-edge.ts';
import { eventually, expectNoMediaObjects, TEST_OPERATOR_TOKEN } from '../helpers/edge.ts';
import { expectReceivingFrom, harness, type Inbound, leaveAndClose } from '../helpers/media-checks.ts';

const chromium = useChromiumEdge({ KASKADE_WORKERS: '2', KASKADE_STATS_INTERVAL_MS: '500' });
const participant = (identity: string, room: string, forceTcp = false) =>
  chromium.join(identity, room, { forceTcp });

describe('two Chromium participants', () => {
  it('see and hear each other, recover from a dropped WebSocket, and leave nothing behind', async () => {
    const alice = await participant('alice', 'chromium-room');
    const bob = await participant('bob', 'chromium-room');
    await expectReceivingFrom(alice.page, bob.id);
    await expectReceivingFrom(bob.page, alice.id);

    // Active speaker: both fake microphones beep; each page is told who is speaking.
    for (const page of [alice.page, bob.page]) {
      await eventually(async () => {
        const speakers = await harness<(string | null)[]>(page, 'speakers');
        expect(
          speakers.some((s) => s === alice.id || s === bob.id),
          JSON.stringify(speakers),
        ).toBe(true);
      }, 15_000);
    }

    // Simulcast: asking for the low layer makes the edge send the quarter-size encoding.
    const bobsCamera = (await harness<Inbound[]>(alice.page, 'inbound')).find((i) => i.kind === 'video')!;
    await harness(alice.page, 'setQuality', bobsCamera.id, 'low');
    await eventually(async () => {
      const video = (await harness<Inbound[]>(alice.page, 'inbound')).find((i) => i.kind === 'video')!;
      expect(video.frameWidth).toBeGreaterThan(0);
      expect(video.frameWidth).toBeLessThanOrEqual(160); // 640x360 scaled down by 4
    }, 20_000);
    await harness(alice.page, 'setQuality', bobsCamera.id, 'high');

    // Reconnect: Alice's signaling socket drops; the SDK rejoins and republishes.
    await harness(alice.page, 'dropSignaling');
    await eventually(
      async () => expect(await harness(alice.page, 'events')).toContain('reconnected'),
      20_000,
    );
    expect(await harness(alice.page, 'state')).toBe('connected');
    // The edge counts the rejoin as a reconnect, and both first joins' first media packets;
    // real WebRTC peers send receiver reports, so RTT and scores of webrtc streams are sampled.
    const metrics = await operatorText(chromium.edge.operatorUrl, TEST_OPERATOR_TOKEN, '/metrics');
    expect(metrics).toMatch(/^kaskade_reconnects_total\{kind="rejoin"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^kaskade_join_seconds_count\{[^}]*stage="first_media"[^}]*\} [2-9]$/m);
    for (const series of [
      'kaskade_rtt_seconds_count',
      'kaskade_consumer_score_count',
      'kaskade_producer_score_count',
    ])
      expect(metrics).toMatch(new RegExp(`^${series}\\{[^}]*transport="webrtc"[^}]*\\} [1-9]\\d*$`, 'm'));
    expect(metrics).toMatch(
      /^kaskade_transport_bytes_total\{direction="out",transport="webrtc"[^}]*\} [1-9]\d*$/m,
    );
    const aliceAgain = await eventually(async () => {
      const ids = (await harness<{ from: string }[]>(bob.page, 'inbound')).map((i) => i.from);
      const fresh = ids.find((id) => id !== alice.id);
      expect(fresh).toBeDefined();
      return fresh!;
    }, 20_000);
    await expectReceivingFrom(bob.page, aliceAgain);
    await expectReceivingFrom(alice.page, bob.id);

    await leaveAndClose(alice.page, bob.page);
    await expectNoMediaObjects(chromium.edge);
  });
});

describe('ICE over TCP', () => {
  it('carries media both ways when the client forces TCP', async () => {
    const carol = await participant('carol', 'tcp-room', true);
    const dave = await participant('dave', 'tcp-room', true);
    await expectReceivingFrom(carol.page, dave.id);
    await expectReceivingFrom(dave.page, carol.id);
    const inbound = await harness<Inbound[]>(carol.page, 'inbound');
    expect(inbound.map((i) => i.protocol)).toEqual(['tcp', 'tcp']);
    await leaveAndClose(carol.page, dave.page);
    await expectNoMediaObjects(chromium.edge);
  });
});

describe('the demo page', () => {
  it('lets two tabs join a room and see each other with names', async () => {
    const base = chromium.baseUrl;
    const tabs: Page[] = [];
    for (const name of ['Ada Lovelace', 'Grace Hopper']) {
      const page = await chromium.browser.newPage();
      await page.goto(`${base}/?room=demo-test`);
      await page.$eval('#name', (input) => {
        (input as HTMLInputElement).value = '';
      });
      await page.type('#name', name);
      await page.click('#join');
      tabs.push(page);
    }
    for (const [i, page] of tabs.entries()) {
      const other = i === 0 ? 'Grace Hopper' : 'Ada Lovelace';
      await page.bringToFront(); // background tabs do not render video
      await eventually(async () => {
        const tiles = await page.evaluate(() =>
          [...document.querySelectorAll('.tile')].map((t) => ({
            name: t.querySelector('.name')?.textContent,
            videoWidth: t.querySelector('video')?.videoWidth ?? 0,
          })),
        );
        expect(tiles).toHaveLength(2);
        expect(tiles.find((t) => t.name === other)?.videoWidth).toBeGreaterThan(0);
      }, 30_000);
    }
    for (const page of tabs) {
      await page.bringToFront();
      await page.click('#leave');
      await page.waitForSelector('#join-form:not([hidden])', { timeout: 5000 });
      await page.close();
    }
    await expectNoMediaObjects(chromium.edge);
  });
});
