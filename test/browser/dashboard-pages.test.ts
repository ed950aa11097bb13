import type { Locator } from 'playwright-core';
import { ThreadsDocument } from '../../web/gql/graphql';
import { describeInBrowser } from '../support/browser';
import { countQueries, DESKTOP, expectAccessible, expectClean, expectNoSidewaysScroll, PHONE, untilFocused, useDashboards, type Tab } from '../support/dashboard';
import { untilDashboards } from '../support/live';
import { asRecipient, useWorld } from '../support/world';

// Lists longer than a page, in headless Chromium against a real server: the thread list and a
// team inbox load their later pages by cursor, and live changes reach the threads of every page.

describeInBrowser('more than one page of threads', () => {
  const env = useWorld();
  const { dashboardOf } = useDashboards(env);

  /** Runs `make` for 0…count-1, a few at a time: quicker than one by one, without flooding the server. */
  async function inBatches<T>(count: number, make: (index: number) => Promise<T>): Promise<T[]> {
    const made: T[] = [];
    for (let start = 0; start < count; start += 5) {
      made.push(...(await Promise.all(Array.from({ length: Math.min(5, count - start) }, (_, offset) => make(start + offset)))));
    }
    return made;
  }

  /** Presses a button from the keyboard: focused, then Enter. */
  async function press(button: Locator): Promise<void> {
    await button.focus();
    await button.press('Enter');
  }

  const threadList = (tab: Tab) => tab.page.getByRole('list', { name: 'My threads' });
  const subjects = (tab: Tab) => threadList(tab).locator('.subject').allTextContents();

  async function showOlderThreads(tab: Tab): Promise<void> {
    await threadList(tab).getByRole('link').nth(49).waitFor();
    expect(await threadList(tab).getByRole('link').count()).toBe(50);
    await press(tab.page.getByRole('button', { name: 'Show older threads' }));
    await threadList(tab).getByRole('link').nth(54).waitFor();
    // Focus goes to the first thread the page added.
    await untilFocused(threadList(tab).getByRole('link').nth(50));
    await tab.page.getByRole('button', { name: 'Show older threads' }).waitFor({ state: 'detached' });
  }

  test('a professional with 55 threads shows the older ones; a message moves one to the top, and a thread left leaves every page', async () => {
    const doctor = await env.world.professional('Pages Doctor');
    const colleague = await env.world.professional('Pages Colleague');
    const start = (index: number) => env.world.thread(colleague, [asRecipient(doctor)], `Note ${index}`, `Older ${String(index).padStart(2, '0')}`);
    // Thread 00 first, so that it is the oldest.
    const ids = [await start(0), ...(await inBatches(54, (index) => start(index + 1)))];
    const { threads } = await env.world.as(doctor, ThreadsDocument, { first: 100 });
    const newestFirst = threads.edges.map((edge) => edge.node.subject);
    const idOf = (subject: string) => threads.edges.find((edge) => edge.node.subject === subject)!.node.id;

    const desktop = await dashboardOf(doctor, DESKTOP);
    await threadList(desktop).getByRole('link').nth(49).waitFor();
    // The list must be kept by its live events, not asked again.
    const asked = countQueries(desktop, 'Threads');
    const phone = await dashboardOf(doctor, PHONE);
    await untilDashboards(env.server, 2);
    await showOlderThreads(desktop);
    expect(await subjects(desktop)).toEqual(newestFirst);
    expect(newestFirst[54]).toBe('Older 00');
    await expectAccessible(desktop.page, 'pages-threads-older-desktop');
    await showOlderThreads(phone);
    await expectNoSidewaysScroll(phone.page);
    await expectAccessible(phone.page, 'pages-threads-older-phone');

    // Thread 00 came with the second page: a new message in it still moves it to the top, live.
    await env.world.send(colleague, ids[0], 'Any news?');
    for (const tab of [desktop, phone]) await threadList(tab).getByRole('listitem').first().getByText('Older 00', { exact: true }).waitFor();
    expect(await subjects(desktop)).toEqual(['Older 00', ...newestFirst.slice(0, 54)]);

    // Leaving, through the API: the thread at the top (from the second page) and one still
    // where the second page put it leave both pages' lists.
    const second = newestFirst[53];
    await env.world.leave(doctor, ids[0]);
    await env.world.leave(doctor, idOf(second));
    for (const tab of [desktop, phone]) {
      await threadList(tab).getByText('Older 00', { exact: true }).waitFor({ state: 'detached' });
      await threadList(tab).getByText(second, { exact: true }).waitFor({ state: 'detached' });
    }
    expect(await subjects(phone)).toEqual(newestFirst.filter((subject) => subject !== 'Older 00' && subject !== second));

    // Added again, it is listed again, once.
    await env.world.addParticipants(colleague, idOf(second), [doctor]);
    for (const tab of [desktop, phone]) await threadList(tab).getByText(second, { exact: true }).waitFor();
    expect((await subjects(desktop)).sort()).toEqual(newestFirst.filter((subject) => subject !== 'Older 00').sort());
    await expectAccessible(desktop.page, 'pages-threads-after-leaving-desktop');
    // The first page shown, only the second was asked for: no change above needed the list asked again.
    expect(asked.sent).toBe(1);
    expectClean(desktop, phone);
  });

  test('a team inbox with 105 open threads shows them all, a page at a time, and a thread done on the last page leaves it', async () => {
    const { a, team, pat } = await env.world.careTeam('Pages Inbox');
    await inBatches(105, (index) => env.world.thread(pat, [asRecipient(team)], `Question ${index}`, `Waiting ${String(index).padStart(3, '0')}`));
    const tab = await dashboardOf(a, PHONE);
    await tab.page.getByRole('link', { name: `${team.name} inbox` }).click();
    const items = tab.page.getByRole('article');
    await items.nth(49).waitFor();
    expect(await items.count()).toBe(50);

    await press(tab.page.getByRole('button', { name: 'Show more' }));
    await items.nth(99).waitFor();
    await untilFocused(items.nth(50));
    await press(tab.page.getByRole('button', { name: 'Show more' }));
    await items.nth(104).waitFor();
    await untilFocused(items.nth(100));
    expect(await items.count()).toBe(105);
    await tab.page.getByRole('button', { name: 'Show more' }).waitFor({ state: 'detached' });
    expect((await tab.page.getByRole('alert').allTextContents()).filter(Boolean)).toEqual([]);
    await expectNoSidewaysScroll(tab.page);
    await expectAccessible(tab.page, 'pages-inbox-all-phone');

    // Every page is asked again after a change, each after the one before: the thread leaves Open's list, and none other does.
    const last = items.nth(104);
    const subject = await last.getByRole('heading').textContent();
    await last.getByRole('button', { name: 'Done' }).click();
    await tab.page.getByRole('status').getByText(`Marked “${subject}” done.`).waitFor();
    await tab.page.getByRole('article', { name: subject! }).waitFor({ state: 'detached' });
    await items.nth(103).waitFor();
    expect(await items.count()).toBe(104);
    expectClean(tab);
  });
});
