import type { Page } from 'playwright-core';
import { SendMessageDocument } from '../../web/gql/graphql';
import { describeInBrowser } from '../support/browser';
import { MINUTE, TestClock } from '../support/clock';
import { countQueries, DESKTOP, expectAccessible, expectClean, expectNoSidewaysScroll, PHONE, tabTo, untilFocused, useDashboards, type Tab } from '../support/dashboard';
import { untilDashboards } from '../support/live';
import { asRecipient, useWorld, type TeamRef } from '../support/world';

// The team inbox view and the escalation alerts, in headless Chromium against
// a real server: two members of a team on two pages, each change made on one
// page (or by the patient through the API) shown live on the other. The
// escalation schedule reads a TestClock that the tests move forward.

const clock = new TestClock();
const SET_LIMIT = `mutation($t: ID!, $m: Int) { setTeamWaitingLimit(teamId: $t, minutes: $m) { id } }`;

describeInBrowser('the team inbox and escalation alerts', () => {
  const env = useWorld({ ESCALATION_POLL_MS: '20' }, { clock });
  const { dashboardOf } = useDashboards(env);
  beforeEach(() => clock.reset());

  async function openInbox(tab: Tab, team: TeamRef): Promise<void> {
    await tab.page.getByRole('link', { name: `${team.name} inbox` }).click();
    await tab.page.getByRole('heading', { name: `${team.name} inbox` }).waitFor();
  }

  /** The inbox's entry for a thread, by its subject. */
  const itemOf = (page: Page, subject: string) => page.getByRole('article', { name: subject });

  test('a new thread, a claim, an assignment, done and reopen show live on the other member’s page', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Inbox');
    const [pageA, pageB] = [await dashboardOf(a, DESKTOP), await dashboardOf(b, DESKTOP)];
    await untilDashboards(env.server, 2);
    await Promise.all([openInbox(pageA, team), openInbox(pageB, team)]);
    await pageA.page.getByText('No open threads: nobody is waiting.').waitFor();

    const threadId = await env.world.thread(pat, [asRecipient(team)], 'my ankle is still swollen', 'Ankle');
    const [itemA, itemB] = [itemOf(pageA.page, 'Ankle'), itemOf(pageB.page, 'Ankle')];
    for (const text of ['Patient: Inbox Pat', 'waiting 0 min', 'Unassigned', '1 unread']) await itemB.getByText(text).waitFor();
    await expectAccessible(pageB.page, 'inbox-new-thread-desktop');

    await itemA.getByRole('button', { name: 'Claim' }).click();
    await pageA.page.getByRole('status').getByText('You claimed “Ankle”.').waitFor();
    await itemB.getByText('Assigned to Inbox Dr A').waitFor();

    await itemB.getByLabel('Assign to').selectOption({ label: 'Inbox Dr B' });
    await itemB.getByRole('button', { name: 'Assign', exact: true }).click();
    await itemA.getByText('Assigned to Inbox Dr B').waitFor();
    await pageA.page.getByRole('radio', { name: 'Mine' }).check();
    await pageA.page.getByText('Nothing open is assigned to you.').waitFor();
    await pageA.page.getByRole('radio', { name: 'Anyone' }).check();
    await itemA.waitFor();

    await itemB.getByRole('button', { name: 'Done' }).click();
    await itemA.waitFor({ state: 'detached' });
    await pageA.page.getByText('No open threads: nobody is waiting.').waitFor();
    // The item left B's list with B's focus in it: the focus goes to the inbox's heading.
    await untilFocused(pageB.page.getByRole('heading', { name: 'Inbox Team inbox' }));

    await pageA.page.getByRole('radio', { name: 'Done' }).check();
    await itemA.getByText('Done by Inbox Dr B').waitFor();
    await expectAccessible(pageA.page, 'inbox-done-desktop');
    await itemA.getByRole('button', { name: 'Reopen' }).click();
    await itemA.waitFor({ state: 'detached' });
    await itemB.getByText('Assigned to Inbox Dr B').waitFor();
    await itemB.getByText(/^waiting \d+ min/).waitFor();
    // A professional's reply ends the patient's wait.
    await env.world.send(a, threadId, 'Keep it raised tonight');
    await itemB.getByText('waiting', { exact: false }).waitFor({ state: 'detached' });
    expectClean(pageA, pageB);
  });

  test('the inbox is asked again only when a message can change it: a reply ends the wait; a staff note, or the patient writing again, does not', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Asks');
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'the inhaler is empty', 'Inhaler');
    const tab = await dashboardOf(a, DESKTOP);
    await untilDashboards(env.server, 1);
    await openInbox(tab, team);
    const item = itemOf(tab.page, 'Inhaler');
    await item.getByText('1 unread').waitFor();
    await item.getByText('waiting 0 min').waitFor();
    // Asking again reads every thread the inbox lists: each is recorded as a THREAD_READ.
    const asked = countQueries(tab, 'TeamInbox');

    await env.world.send(pat, threadId, 'and the spare one too');
    await item.getByText('2 unread').waitFor();
    await env.world.as(b, SendMessageDocument, { threadId, body: 'she asked for one last week as well', staffOnly: true });
    await item.getByText('3 unread').waitFor();
    await env.world.send(b, threadId, 'A new prescription is on its way');
    await item.getByText('waiting', { exact: false }).waitFor({ state: 'detached' });
    expect(asked.sent).toBe(1);
    // The patient writing after the reply starts a new wait.
    await env.world.send(pat, threadId, 'Thank you, which pharmacy?');
    await item.getByText('waiting 0 min').waitFor();
    expect(asked.sent).toBe(2);
    expectClean(tab);
  });

  test('on a phone: claimed with the keyboard alone, and a refused assignment shows the server’s reason', async () => {
    const { a, team, pat } = await env.world.careTeam('Phone');
    const leaver = await env.world.professional('Phone Dr Leaver');
    await env.world.addMember(team, leaver);
    const gone = await env.world.professional('Phone Dr Gone');
    await env.world.addMember(team, gone);
    await env.world.as(env.world.admin, `mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }`, { u: gone.id });
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'the rash is spreading', 'A rash that has spread from the left forearm to the shoulder');
    await env.world.leave(leaver, threadId);
    const tab = await dashboardOf(a, PHONE);
    await openInbox(tab, team);
    const item = itemOf(tab.page, 'A rash that has spread from the left forearm to the shoulder');
    await item.getByText('Unassigned').waitFor();
    await expectAccessible(tab.page, 'inbox-phone');
    await expectNoSidewaysScroll(tab.page);

    await tabTo(tab.page, item.getByRole('button', { name: 'Claim' }));
    await tab.page.keyboard.press('Enter');
    await item.getByText('Assigned to Phone Dr A').waitFor();
    await untilFocused(item);

    // Offered: the team's members who can be reached now, as the server lists them (not Dr Quiet, not a disabled account).
    expect((await item.getByLabel('Assign to').locator('option').allTextContents()).sort()).toEqual(['Phone Dr A', 'Phone Dr B', 'Phone Dr Leaver']);
    await item.getByLabel('Assign to').selectOption({ label: 'Phone Dr Leaver' });
    await item.getByRole('button', { name: 'Assign', exact: true }).click();
    await item.getByRole('alert').getByText('Phone Dr Leaver is not a participant of this thread').waitFor();
    await item.getByText('Assigned to Phone Dr A').waitFor();
    await expectAccessible(tab.page, 'inbox-phone-refused');
    await expectNoSidewaysScroll(tab.page);

    // Another team's inbox, by its address: the server refuses a non-member, and the page says so.
    const elsewhere = await env.world.team('Phone Elsewhere');
    await tab.page.evaluate(`location.hash = '#/inbox/${elsewhere.id}'`);
    await tab.page.getByRole('alert').getByText('You are not allowed to do that.').waitFor();
    expectClean(tab);
  });

  test('a patient waiting past the team’s limit raises an alert on each member’s page, over the one live subscription', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Waiting');
    await env.world.as(a, SET_LIMIT, { t: team.id, m: 60 });
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'can I take ibuprofen?', 'Ibuprofen');
    const phone = await dashboardOf(a, PHONE);
    const desktop = await dashboardOf(b, DESKTOP);
    await untilDashboards(env.server, 2);
    await openInbox(desktop, team);
    const item = itemOf(desktop.page, 'Ibuprofen');
    await item.getByText('Unassigned').waitFor();

    clock.advance(61 * MINUTE);
    const text = 'A patient has waited over 60 min in Waiting Team: Ibuprofen';
    for (const tab of [phone, desktop]) await tab.page.getByRole('alert').filter({ hasText: text }).waitFor();
    await item.getByText('Escalated').waitFor();
    // The shell's feed and the alerts' listener are one operation: one subscription per page.
    expect(env.server.live.size).toBe(2);
    await expectAccessible(phone.page, 'inbox-escalation-alert-phone');
    await expectNoSidewaysScroll(phone.page);
    await expectAccessible(desktop.page, 'inbox-escalation-alert-desktop');

    const alert = phone.page.getByRole('alert').filter({ hasText: text });
    await alert.getByRole('link', { name: 'Ibuprofen' }).click();
    await phone.page.waitForURL(`**#/thread/${threadId}`);
    // The opened thread takes the focus to its heading; the keyboard user goes on from there.
    await untilFocused(phone.page.getByRole('heading', { name: 'Ibuprofen', exact: true }));
    await tabTo(phone.page, alert.getByRole('button', { name: 'Dismiss' }));
    await phone.page.keyboard.press('Enter');
    await phone.page.getByText(text).waitFor({ state: 'detached' });
    await untilFocused(phone.page.getByRole('main'));
    expectClean(phone, desktop);
  });
});
