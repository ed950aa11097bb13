import type { Page } from 'playwright-core';
import { MyAccessLogDocument, SendMessageDocument } from '../../web/gql/graphql';
import { deliveriesRecorded } from '../support/audit-requests';
import { describeInBrowser } from '../support/browser';
import { DESKTOP, expectAccessible, expectClean, expectNoSidewaysScroll, PHONE, useDashboards } from '../support/dashboard';
import { failure } from '../support/graphql';
import { until, untilDashboards } from '../support/live';
import { useWorld, type Person } from '../support/world';

// A patient's "Who saw my messages" on the dashboard: who read their thread, received its messages
// live, or tried and was refused; never anything of a staff-only note; their own reads on request;
// a page at a time. Real server, headless Chromium.

const READ = `query($t: ID!) { thread(id: $t) { messages { edges { node { body } } } } }`;

describeInBrowser('the access log on the dashboard', () => {
  const env = useWorld();
  const { dashboardOf } = useDashboards(env);

  async function openAccessLog(page: Page): Promise<void> {
    await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Who saw my messages' }).click();
    await page.getByRole('heading', { name: 'Who saw my messages' }).waitFor();
  }

  const entries = (page: Page) => page.getByRole('list', { name: 'Who saw my messages' }).getByRole('listitem');
  const entry = (page: Page, text: string) => entries(page).filter({ hasText: text });
  /** The patient's log as the API gives it (first page), to compare with what the page shows. */
  const logOf = async (patient: Person, includeOwn = false) => (await env.world.as(patient, MyAccessLogDocument, { includeOwn })).myAccessLog.edges;

  test('reads, live deliveries and a refused attempt are listed by name; a staff note’s delivery never; own reads on request', async () => {
    const a = await env.world.professional('Seen Dr A');
    const b = await env.world.professional('Seen Dr B');
    const outsider = await env.world.professional('Seen Outsider');
    const pat = await env.world.patient('Seen Pat');
    await env.world.share(pat, a);
    await env.world.share(pat, b);
    const threadId = await env.world.thread(pat, [{ userId: a.id }, { userId: b.id }], 'My results please', 'Results');

    // B's dashboard is open: B is pushed the note and the reply live.
    const staff = await dashboardOf(b, DESKTOP);
    await untilDashboards(env.server, 1);
    const note = (await env.world.as(a, SendMessageDocument, { threadId, body: 'check the HbA1c first', staffOnly: true })).sendMessage.id;
    await deliveriesRecorded(env.server, note, 1);
    const reply = await env.world.send(a, threadId, 'Your results are fine');
    await deliveriesRecorded(env.server, reply, 1);
    await env.world.as(a, READ, { t: threadId });
    expect((await failure(env.server.url, READ, { t: threadId }, outsider.token)).extensions?.code).toBe('NOT_FOUND');
    await env.world.as(pat, READ, { t: threadId });

    const patient = await dashboardOf(pat, DESKTOP);
    const { page } = patient;
    await openAccessLog(page);
    await entry(page, 'Seen Dr A read the thread').waitFor();
    await entry(page, 'Seen Dr B received a message live').waitFor();
    const refused = entry(page, 'Seen Outsider tried to read the thread');
    await refused.getByText('Refused: they saw nothing').waitFor();
    // The reply's delivery only: the note's is not the patient's to see, in the page as in the API.
    expect(await entry(page, 'received a message live').count()).toBe(1);
    const logged = await logOf(pat);
    expect(logged.filter((e) => e.node.action === 'MESSAGE_DELIVERED')).toHaveLength(1);
    expect(await entries(page).count()).toBe(logged.length);
    expect(await entry(page, 'Seen Pat read the thread').count()).toBe(0);
    await expectAccessible(page, 'access-log-1-desktop');

    // Own reads, by keyboard.
    await page.getByLabel('Include my own reads').focus();
    await page.keyboard.press('Space');
    await entry(page, 'Seen Pat read the thread').first().waitFor();
    expect(await entries(page).count()).toBe((await logOf(pat, true)).length);
    await expectAccessible(page, 'access-log-2-with-own-reads-desktop');

    // Each entry links to its thread.
    await entry(page, 'Seen Dr A read the thread').getByRole('link', { name: 'Open the thread' }).click();
    await page.waitForURL((url) => url.hash === `#/thread/${threadId}`);
    expectClean(staff, patient);
  });

  test('on a phone, a long log comes a page at a time: Show more brings the next and takes the focus there', async () => {
    const a = await env.world.professional('Paged Dr With A Name Long Enough To Wrap On A Phone Screen');
    const pat = await env.world.patient('Paged Pat');
    await env.world.share(pat, a);
    const threadId = await env.world.thread(pat, [{ userId: a.id }]);
    // One more read than the view's first page (50).
    for (let read = 0; read < 51; read++) await env.world.as(a, READ, { t: threadId });

    const tab = await dashboardOf(pat, PHONE);
    const { page } = tab;
    await openAccessLog(page);
    await entries(page).nth(49).waitFor();
    expect(await entries(page).count()).toBe(51); // 50 entries and the item holding Show more
    await expectAccessible(page, 'access-log-3-first-page-phone');
    await expectNoSidewaysScroll(page);

    await page.getByRole('button', { name: 'Show more' }).click();
    await entry(page, 'read the thread').nth(50).waitFor();
    expect(await entries(page).count()).toBe(51);
    expect(await page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
    // The first entry of the new page has the focus: reading goes on from there.
    const focused = 'Array.prototype.indexOf.call(document.activeElement.parentElement.children, document.activeElement)';
    await until(async () => (await page.evaluate<number>(focused)) === 50, 3000, 'the focus on the first entry of the new page');
    await expectAccessible(page, 'access-log-4-second-page-phone');
    await expectNoSidewaysScroll(page);
    expectClean(tab);
  });
});
