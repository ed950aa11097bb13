import type { Route } from 'playwright-core';
import { describeInBrowser } from '../support/browser';
import { expectAccessible, expectNoSidewaysScroll, operationOf, PHONE, useDashboards, type Tab } from '../support/dashboard';
import { until, untilDashboards } from '../support/live';
import { useWorld, type Person } from '../support/world';

// A thread longer than one page of messages (the API gives at most 100 at once, oldest
// first): the open thread loads the later pages in turn and shows every message, the
// newest last, and a new message joins after them, once.

const LENGTH = 130;
const note = (n: number) => `Note ${String(n).padStart(3, '0')}`;
const notes = (count: number) => Array.from({ length: count }, (_, i) => note(i + 1));
/** The operation a dashboard request asks for (the dashboard sends every one as a POST). */
describeInBrowser('the dashboard: a thread of more than one page of messages', () => {
  const env = useWorld();
  const { dashboardOf } = useDashboards(env);

  const messages = (tab: Tab) => tab.page.getByRole('list', { name: 'Messages' }).getByRole('listitem');
  const message = (tab: Tab, body: string) => messages(tab).filter({ hasText: body });
  const later = (tab: Tab) => tab.page.getByRole('status').filter({ hasText: 'Loading newer messages…' });
  const bodies = (tab: Tab) => messages(tab).evaluateAll((items) => items.map((item) => item.querySelector('.body')?.textContent ?? ''));

  /** A thread from the patient to the team, of LENGTH messages written in turn by the patient and a clinician. */
  async function longThread(label: string): Promise<{ a: Person; pat: Person; subject: string; threadId: string }> {
    const { a, team, pat } = await env.world.careTeam(label);
    const subject = `${label} diary`;
    const threadId = await env.world.thread(pat, [{ teamId: team.id }], note(1), subject);
    for (let n = 2; n <= LENGTH; n++) await env.world.send(n % 2 ? pat : a, threadId, note(n));
    return { a, pat, subject, threadId };
  }

  async function openThread(tab: Tab, subject: string): Promise<void> {
    await tab.page.getByRole('list', { name: 'My threads' }).getByRole('listitem').filter({ hasText: subject }).getByRole('link').click();
    await tab.page.getByRole('heading', { name: subject, exact: true }).waitFor();
  }

  test('a clinician sees all 130 messages in order; one arriving live and their own reply each show last, once', async () => {
    const { a, pat, subject, threadId } = await longThread('Long');
    const clinician = await dashboardOf(a);
    await untilDashboards(env.server, 1);
    await openThread(clinician, subject);

    await message(clinician, note(LENGTH)).waitFor();
    expect(await bodies(clinician)).toEqual(notes(LENGTH));
    expect(await later(clinician).count()).toBe(0);

    await env.world.send(pat, threadId, 'Note 131, sent live');
    await message(clinician, 'Note 131, sent live').waitFor();
    expect(await bodies(clinician)).toEqual([...notes(LENGTH), 'Note 131, sent live']);

    // A reply reaches the cache twice (its sendMessage answer and its live event); the patient's
    // next message comes after that event on the same feed, so once it shows, both have.
    await clinician.page.getByLabel('Reply', { exact: true }).fill('Note 132, the clinician’s reply');
    await clinician.page.getByRole('button', { name: 'Send reply' }).click();
    await message(clinician, 'Note 132, the clinician’s reply').waitFor();
    await env.world.send(pat, threadId, 'Note 133, thanks');
    await message(clinician, 'Note 133, thanks').waitFor();
    expect(await bodies(clinician)).toEqual([...notes(LENGTH), 'Note 131, sent live', 'Note 132, the clinician’s reply', 'Note 133, thanks']);

    await expectNoSidewaysScroll(clinician.page);
    await expectAccessible(clinician.page, 'long-thread-clinician-desktop');
    expect(clinician.reloads).toBe(0);
    expect(clinician.errors).toEqual([]);
  });

  /**
   * Routes the tab's requests for later pages of messages (ThreadMessages) as `mode` says when each is
   * made: held until released, failed as a dropped connection would, or passed to the server.
   */
  async function pagesOf(tab: Tab) {
    const control = { mode: 'hold' as 'hold' | 'fail' | 'pass', held: [] as Route[] };
    await tab.page.route(
      (url) => url.pathname === '/graphql',
      (route) => {
        if (operationOf(route.request()) !== 'ThreadMessages' || control.mode === 'pass') void route.continue();
        else if (control.mode === 'fail') void route.abort('connectionfailed');
        else control.held.push(route);
      },
    );
    return control;
  }

  test('on a phone, the thread stays usable while newer messages load, and a reply sent meanwhile shows after them, once', async () => {
    const { pat, subject } = await longThread('Long Phone');
    const patient = await dashboardOf(pat, PHONE);
    const pages = await pagesOf(patient);

    await openThread(patient, subject);
    await later(patient).waitFor();
    await message(patient, note(1)).waitFor();
    expect(await bodies(patient)).toEqual(notes(100));
    await expectAccessible(patient.page, 'long-thread-patient-phone-loading');

    const box = patient.page.getByLabel('Reply', { exact: true });
    await box.fill('Note 131, my reply');
    await patient.page.getByRole('button', { name: 'Send reply' }).click();
    await until(async () => (await box.inputValue()) === '', 5000, 'the reply was not sent');
    // Not before the newer messages: the last page brings it.
    expect(await message(patient, 'Note 131, my reply').count()).toBe(0);

    pages.mode = 'pass';
    for (const route of pages.held.splice(0)) await route.continue();
    await message(patient, 'Note 131, my reply').waitFor();
    expect(await bodies(patient)).toEqual([...notes(LENGTH), 'Note 131, my reply']);
    expect(await later(patient).count()).toBe(0);

    await expectNoSidewaysScroll(patient.page);
    await expectAccessible(patient.page, 'long-thread-patient-phone');
    expect(patient.reloads).toBe(0);
    expect(patient.errors).toEqual([]);
  });

  test('newer messages that cannot be loaded say why, and Try again (by keyboard) loads them', async () => {
    const { a, subject } = await longThread('Long Failed');
    const clinician = await dashboardOf(a, PHONE);
    const pages = await pagesOf(clinician);
    pages.mode = 'fail';

    await openThread(clinician, subject);
    const failure = clinician.page.getByRole('alert').filter({ hasText: 'Newer messages could not be loaded: The server cannot be reached. Check the connection and try again.' });
    await failure.waitFor();
    expect(await bodies(clinician)).toEqual(notes(100));
    await expectAccessible(clinician.page, 'long-thread-failed-phone');

    await clinician.page.getByRole('button', { name: 'Try again' }).focus();
    pages.mode = 'pass';
    await clinician.page.keyboard.press('Enter');
    // The button goes: the focus stays where it was, on the status.
    expect(await clinician.page.evaluate('document.activeElement?.getAttribute("role")')).toBe('status');
    await message(clinician, note(LENGTH)).waitFor();
    expect(await bodies(clinician)).toEqual(notes(LENGTH));
    expect(await failure.count()).toBe(0);

    expect(clinician.reloads).toBe(0);
    // The failed request, as the browser logs it.
    expect(clinician.errors.every((error) => error.startsWith('Failed to load resource'))).toBe(true);
  });
});
