import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page, Request } from 'playwright-core';
import { WEB_ROOT } from '../../src/web';
import { launchBrowser, screenshot } from './browser';
import { until } from './live';
import type { TestServer } from './server';
import { PASSWORD, type Person, type useWorld } from './world';

// The dashboard at /app in headless Chromium against a real server, each person
// in their own browser context, as on two machines. Every wait is on something
// the page shows; nothing sleeps.

/** A dashboard page, with how often it loaded again (live updates must need none) and what it logged as errors. */
export interface Tab {
  page: Page;
  reloads: number;
  errors: string[];
}

/** A phone's viewport (the narrowest the dashboard is made for) and a desktop's. */
export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1280, height: 800 };

/**
 * Sets up a browser for a describe block of dashboard tests: each test's pages
 * are closed after it, and the server must then hold no live connection.
 */
export function useDashboards(env: ReturnType<typeof useWorld>) {
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!existsSync(join(WEB_ROOT, 'app', 'dashboard.js'))) throw new Error('the dashboard is not built: run npm run build:web');
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await until(() => env.server.live.size === 0 && env.server.app.liveSessions.size === 0);
  });
  afterAll(() => browser?.close());

  /**
   * A new browser context on /app, signed in to nothing: of the test's server unless `server`
   * says otherwise, with `context` for anything else the browser should be (a time zone...).
   */
  async function openApp(viewport = DESKTOP, { context: options = {}, server = env.server }: { context?: BrowserContextOptions; server?: Pick<TestServer, 'url'> } = {}): Promise<Tab> {
    const context = await browser.newContext({ viewport, ...options });
    contexts.push(context);
    // Below jest's timeout, so that a missing element fails with Playwright's message naming it.
    context.setDefaultTimeout(5000);
    const page = await context.newPage();
    const tab: Tab = { page, reloads: 0, errors: [] };
    page.on('pageerror', (error) => tab.errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && tab.errors.push(message.text()));
    await page.goto(`${new URL(server.url).origin}/app`);
    page.on('load', () => tab.reloads++);
    return tab;
  }

  async function signIn(tab: Tab, person: Person, password = PASSWORD): Promise<void> {
    await tab.page.getByLabel('Email').fill(person.email);
    await tab.page.getByLabel('Password').fill(password);
    await tab.page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** A signed-in dashboard whose live feed is on. */
  async function dashboardOf(person: Person, viewport = DESKTOP, options: Parameters<typeof openApp>[1] = {}): Promise<Tab> {
    const tab = await openApp(viewport, options);
    await signIn(tab, person);
    await tab.page.getByText('Live updates on.').waitFor();
    return tab;
  }

  return { openApp, signIn, dashboardOf };
}

/**
 * The axe-core script, run in pages under test (it is not part of the dashboard). Evaluated over
 * the DevTools protocol rather than added as a script tag, which the page's CSP would refuse.
 */
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core on the page as it is and fails on any serious or critical
 * violation, naming each rule and the elements that break it. Saves a
 * screenshot as test-artifacts/<name>.png either way.
 */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  if (!(await page.evaluate('typeof axe !== "undefined"'))) await page.evaluate(AXE);
  const violations = await page.evaluate<AxeViolation[]>(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`);
  const serious = violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.impact} ${violation.id} (${violation.help}): ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  expect(serious).toEqual([]);
}

/** Fails when the page is wider than its viewport: nothing may need scrolling sideways. */
export async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(overflow).toBeLessThanOrEqual(0);
}

/** Leaves the test's pages as they must be: never reloaded, nothing logged as an error. */
export function expectClean(...tabs: Tab[]): void {
  expect(tabs.map(({ reloads, errors }) => ({ reloads, errors }))).toEqual(tabs.map(() => ({ reloads: 0, errors: [] })));
}

/** Whether `locator` has the keyboard focus now. */
const isFocused = (locator: Locator) => locator.evaluate((element) => element === element.ownerDocument.activeElement);

/** Resolves once `locator` has the keyboard focus (looked up each time: the page may render it anew). */
export const untilFocused = (locator: Locator) => until(() => isFocused(locator), 5000, `the focus never reached ${locator}`);

/**
 * Presses Tab until `target` has the focus, as a keyboard user would reach it.
 * Wait first for whatever moves the focus by itself (an opened view focuses its heading).
 */
export async function tabTo(page: Page, target: Locator): Promise<void> {
  for (let presses = 0; presses < 50; presses++) {
    await page.keyboard.press('Tab');
    if (await isFocused(target)) return;
  }
  throw new Error(`Tab never reached ${target}`);
}

/** The name of the GraphQL operation a request sends, if it is one (every operation is a POST). */
export function operationOf(request: Request): string | undefined {
  try {
    return (request.postDataJSON() as { operationName?: string } | null)?.operationName;
  } catch {
    return undefined;
  }
}

/** Counts the requests for the operation `name` that the page sends from now on. */
export function countQueries(tab: Tab, name: string): { sent: number } {
  const count = { sent: 0 };
  tab.page.on('request', (request) => {
    if (operationOf(request) === name) count.sent++;
  });
  return count;
}
