import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export type BrowserName = 'chromium' | 'firefox';

const FIREFOX = process.env.KASKADE_FIREFOX ?? '/usr/bin/firefox-esr';
const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'network.captive-portal-service.enabled': false,
  'app.update.enabled': false,
};
/** What a profile copy leaves out: the lock of the browser that made it, and its session. */
const NOT_COPIED = new Set(['lock', '.parentlock', 'sessionstore.jsonlz4', 'sessionstore-backups']);

function launchFirefox(userDataDir: string): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
}

/**
 * A Firefox profile for one launch, copied from a template. Firefox spends about half of
 * a launch making a new profile (its databases, the add-on registry, the startup cache):
 * 8-9 s against 4-5 s from a copy on this machine, and the suite launches it a dozen
 * times. The template is made once per Firefox build and prefs (a launch that closes
 * cleanly), under the temporary directory; puppeteer writes the prefs again at every
 * launch, so each copy starts as a new profile would, without the setting-up.
 */
async function firefoxProfile(): Promise<string> {
  const binary = statSync(FIREFOX);
  const key = createHash('sha256')
    .update(JSON.stringify([FIREFOX, binary.size, binary.mtimeMs, FIREFOX_PREFS]))
    .digest('hex')
    .slice(0, 16);
  const template = join(tmpdir(), `kaskade-firefox-template-${key}`);
  if (!existsSync(template)) {
    const making = mkdtempSync(`${template}-making-`);
    const browser = await launchFirefox(making);
    await (await browser.newPage()).goto('about:blank');
    await browser.close();
    try {
      renameSync(making, template); // atomic: another file may have made one meanwhile
    } catch {
      rmSync(making, { recursive: true, force: true });
    }
  }
  const profile = mkdtempSync(join(tmpdir(), 'kaskade-firefox-'));
  cpSync(template, profile, { recursive: true, filter: (source) => !NOT_COPIED.has(basename(source)) });
  return profile;
}

/** A headless system browser with fake camera and microphone; close() removes its profile. */
export async function launchBrowser(name: BrowserName): Promise<Browser> {
  const userDataDir =
    name === 'firefox' ? await firefoxProfile() : mkdtempSync(join(tmpdir(), `kaskade-${name}-`));
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
      : await launchFirefox(userDataDir);
  browser.once('disconnected', () =>
    // The browser may still be flushing its profile; best effort, never a crash.
    setTimeout(() => rm(userDataDir, { recursive: true, force: true, maxRetries: 5 }).catch(() => {}), 500),
  );
  return browser;
}
