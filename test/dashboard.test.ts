import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_ROOT } from '../src/web';
import { describeInBrowser, launchBrowser, screenshot } from './support/browser';
import { gql, ok } from './support/graphql';
import { until, untilDashboards } from './support/live';
import { PASSWORD, useWorld, type Person } from './support/world';

// The reference dashboard at /app, driven in headless Chromium against a real
// server: each person in their own browser context, as on two machines. Every
// wait is on something the page shows; nothing sleeps.

/** A signed-in dashboard, and how often its page navigated after loading: live updates must need none. */
interface Tab {
  page: Page;
  navigations: number;
  errors: string[];
}

describeInBrowser('the dashboard at /app', () => {
  const env = useWorld();
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

  async function openApp(): Promise<Tab> {
    const context = await browser.newContext();
    contexts.push(context);
    // Below jest's timeout, so that a missing element fails with Playwright's message naming it.
    context.setDefaultTimeout(5000);
    const page = await context.newPage();
    const tab: Tab = { page, navigations: 0, errors: [] };
    page.on('pageerror', (error) => tab.errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && tab.errors.push(message.text()));
    await page.goto(`${new URL(env.server.url).origin}/app`);
    page.on('framenavigated', (frame) => frame === page.mainFrame() && tab.navigations++);
    return tab;
  }

  async function signIn(tab: Tab, person: Person, password = PASSWORD): Promise<void> {
    await tab.page.getByLabel('Email').fill(person.email);
    await tab.page.getByLabel('Password').fill(password);
    await tab.page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function dashboardOf(person: Person): Promise<Tab> {
    const tab = await openApp();
    await signIn(tab, person);
    await tab.page.getByRole('heading', { name: 'My threads' }).waitFor();
    await tab.page.getByText('Live updates on.').waitFor();
    return tab;
  }

  const threadItem = (tab: Tab, subject: string) => tab.page.getByRole('list', { name: 'My threads' }).getByRole('listitem').filter({ hasText: subject });
  const message = (tab: Tab, body: string) => tab.page.getByRole('list', { name: 'Messages' }).getByRole('listitem').filter({ hasText: body });

  test('a patient writes to the team as one option; a clinician sees it arrive live, and the reply reaches the patient live', async () => {
    const { a, team, pat } = await env.world.careTeam('Dash');
    const clinician = await dashboardOf(a);
    const patient = await dashboardOf(pat);
    // Both pages hold their subscription on the server before anything is sent.
    await untilDashboards(env.server, 2);

    await patient.page.getByRole('button', { name: 'New message' }).click();
    const to = patient.page.getByLabel('To', { exact: true });
    // The form appears once the options have loaded.
    await to.waitFor();
    // The team is a single option, naming how many it reaches; its members are not offered.
    expect(await to.locator('option').allTextContents()).toEqual(['Choose a recipient', `${team.name} (team: reaches 2 people)`]);
    await to.selectOption(`team:${team.id}`);
    // Markup in user data must show as text, never run or render.
    const subject = '<b>Morning readings</b>';
    const first = 'Above 12 all week <img src=x>';
    await patient.page.getByLabel('Subject', { exact: true }).fill(subject);
    await patient.page.getByLabel('Message', { exact: true }).fill(first);
    await screenshot(patient.page, 'dashboard-1-patient-picks-team');
    await patient.page.getByRole('button', { name: 'Send', exact: true }).click();
    await patient.page.getByRole('heading', { name: subject }).waitFor();
    await message(patient, first).waitFor();

    // The clinician's list gains the thread, unread, without a reload.
    await threadItem(clinician, subject).getByText('1 unread').waitFor();
    await screenshot(clinician.page, 'dashboard-2-clinician-new-thread-unread');
    await threadItem(clinician, subject).getByRole('button').click();
    await message(clinician, first).waitFor();
    expect(await clinician.page.getByRole('heading', { name: subject }).textContent()).toBe(subject);
    expect(await clinician.page.locator('.messages img').count()).toBe(0);
    // Opening the thread marks it read.
    await threadItem(clinician, subject).getByText('unread').waitFor({ state: 'detached' });

    // With the thread open, the patient's next message appears on the clinician's page live.
    await patient.page.getByLabel('Reply', { exact: true }).fill('It was 14 this morning');
    await patient.page.getByRole('button', { name: 'Send reply' }).click();
    await message(clinician, 'It was 14 this morning').waitFor();
    await screenshot(clinician.page, 'dashboard-3-clinician-sees-message-live');

    // And the clinician's reply reaches the patient live.
    await clinician.page.getByLabel('Reply', { exact: true }).fill('Please come in tomorrow at 9');
    await clinician.page.getByRole('button', { name: 'Send reply' }).click();
    await message(patient, 'Please come in tomorrow at 9').waitFor();
    await screenshot(patient.page, 'dashboard-4-patient-sees-reply-live');

    expect(await message(patient, 'Please come in tomorrow at 9').locator('strong').textContent()).toBe(a.name);
    expect([clinician.navigations, patient.navigations]).toEqual([0, 0]);
    expect([...clinician.errors, ...patient.errors]).toEqual([]);
  });

  test('Sign out ends the session on the server: its token is refused, and the sign-in form shows', async () => {
    const someone = await env.world.professional('Dash Sign Out');
    const tab = await dashboardOf(someone);
    const token = await tab.page.evaluate<string>(`JSON.parse(sessionStorage.getItem('carethread.session')).token`);
    expect((await ok(env.server.url, '{ me { id } }', {}, token)).me.id).toBe(someone.id);

    await tab.page.getByRole('button', { name: 'Sign out' }).click();
    await tab.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await until(async () => (await gql(env.server.url, '{ me { id } }', {}, token)).errors?.[0].extensions?.code === 'UNAUTHENTICATED');
    expect(tab.errors).toEqual([]);
  });

  test('a wrong password shows an error and stays on the sign-in form', async () => {
    const someone = await env.world.professional('Dash Wrong Password');
    const tab = await openApp();
    await signIn(tab, someone, 'not-the-password');
    await tab.page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
    await screenshot(tab.page, 'dashboard-5-wrong-password');
    expect(await tab.page.getByRole('heading', { name: 'My threads' }).count()).toBe(0);
    expect(tab.navigations).toBe(0);
    expect(tab.errors).toEqual([]);
  });
});
