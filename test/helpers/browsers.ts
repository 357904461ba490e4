import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export type BrowserName = 'chromium' | 'firefox';

/** A headless system browser with fake camera and microphone; close() removes its profile. */
export async function launchBrowser(name: BrowserName): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), `kaskade-${name}-`));
  const browser =
    name === 'chromium'
      ? await puppeteer.launch({
          browser: 'chrome',
          executablePath: process.env.KASKADE_CHROMIUM ?? '/usr/bin/chromium',
          headless: true,
          userDataDir,
          args: [
            '--no-sandbox',
            '--use-fake-ui-for-media-stream',
            '--use-fake-device-for-media-stream',
            '--disable-gpu',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--autoplay-policy=no-user-gesture-required',
          ],
        })
      : await puppeteer.launch({
          browser: 'firefox',
          executablePath: process.env.KASKADE_FIREFOX ?? '/usr/bin/firefox-esr',
          headless: true,
          userDataDir,
          extraPrefsFirefox: {
            'media.navigator.streams.fake': true,
            'media.navigator.permission.disabled': true,
            'media.autoplay.default': 0,
            'network.captive-portal-service.enabled': false,
            'app.update.enabled': false,
          },
        });
  browser.once('disconnected', () =>
    // The browser may still be flushing its profile; best effort, never a crash.
    setTimeout(() => rm(userDataDir, { recursive: true, force: true, maxRetries: 5 }).catch(() => {}), 500),
  );
  return browser;
}
