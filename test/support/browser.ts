import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium (.ci/run installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the browser tests leave their screenshots (kept by CI as artifacts; not committed). */
export const ARTIFACTS_DIR = join(__dirname, '..', '..', 'test-artifacts');

/** Browser tests skip without Chromium on a developer's machine; under CI=true they fail instead. */
export const describeInBrowser = existsSync(CHROMIUM_PATH) || process.env.CI === 'true' ? describe : describe.skip;

/**
 * Headless Chromium with the flags this machine's closed network needs: without
 * --disable-background-networking it keeps trying to reach Google's hosts.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Saves a full-page screenshot as test-artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: true });
}
