import type { Page, Route, WebSocketRoute } from 'playwright-core';
import { describeInBrowser } from '../support/browser';
import { expectClean, operationOf, useDashboards, type Tab } from '../support/dashboard';
import { until, untilDashboards } from '../support/live';
import { asRecipient, useWorld, type Person } from '../support/world';

// What the page does when the network or the session lets it down: a live socket that drops
// (frames lost, then reconnected), a token refused over HTTP, a live event that never comes, a
// session saved by an earlier version of the page. The live socket is routed through the test
// (Playwright's routeWebSocket) to drop chosen frames or hold the server's close.

type LiveControl = Awaited<ReturnType<typeof liveRoute>>;

/**
 * Routes the page's live socket through the test: `drop` filters server→page frames, which
 * `dropped` keeps; `sockets` are the open ones.
 */
async function liveRoute(page: Page, holdCloses = false) {
  const control = { drop: (_frame: string) => false, dropped: [] as string[], sockets: [] as { page: WebSocketRoute; server: WebSocketRoute }[] };
  await page.routeWebSocket(/\/graphql/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((frame) => server.send(frame));
    server.onMessage((frame) => {
      if (control.drop(String(frame))) control.dropped.push(String(frame));
      else ws.send(frame);
    });
    // Only when asked: the server's close is then not passed on to the page.
    if (holdCloses) server.onClose(() => undefined);
    control.sockets.push({ page: ws, server });
  });
  return control;
}

describeInBrowser('the dashboard through dropped connections, ended sessions and old sessions', () => {
  const env = useWorld();
  const { openApp, signIn, dashboardOf } = useDashboards(env);

  /** `person`'s signed-in page with its live socket routed through the test (liveRoute), the feed on. */
  async function liveDashboardOf(person: Person, holdCloses = false) {
    const tab = await openApp();
    const live = await liveRoute(tab.page, holdCloses);
    await signIn(tab, person);
    await tab.page.getByText('Live updates on.').waitFor();
    return { tab, live };
  }

  /** Closes the page's live socket as a dropped network would, and waits until the page is live again. */
  async function reconnect(tab: Tab, live: LiveControl): Promise<void> {
    const { page: ws, server } = live.sockets.at(-1)!;
    live.drop = () => false;
    await server.close();
    await ws.close({ code: 4000, reason: 'dropped' });
    await tab.page.getByText('Live updates lost. Reconnecting…').waitFor();
    await tab.page.getByText('Live updates on.').waitFor({ timeout: 10000 });
  }

  test('a session stored by an earlier version of the page (without the viewer’s teams) brings the sign-in form back', async () => {
    const { a } = await env.world.careTeam('Probe Old');
    const tab = await dashboardOf(a);
    await tab.page.evaluate(`{
      const stored = JSON.parse(sessionStorage.getItem('carethread.session'));
      delete stored.user.teams;
      sessionStorage.setItem('carethread.session', JSON.stringify(stored));
    }`);
    await tab.page.reload();
    await tab.page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await tab.page.evaluate("sessionStorage.getItem('carethread.session')")).toBeNull();
    expect(tab.errors).toEqual([]);
  });

  test('leaving takes the thread off the list from the answer alone, without waiting for its live event', async () => {
    const { a, team, pat } = await env.world.careTeam('Probe Leave');
    await env.world.thread(pat, [{ teamId: team.id }], 'Question', 'Probe leave subject');
    const { tab, live } = await liveDashboardOf(a);
    live.drop = (frame) => frame.includes('LEFT_THREAD');
    await tab.page.getByRole('link', { name: /Probe leave subject/ }).click();
    await tab.page.getByRole('button', { name: 'Leave thread' }).click();
    await tab.page.getByRole('button', { name: 'Yes, leave' }).click();
    await tab.page.getByText('You left this thread.').waitFor();
    await tab.page.getByText('No threads yet.').waitFor();
  });

  test('after the live connection drops, what happened meanwhile shows once it is back', async () => {
    const { a, team, pat } = await env.world.careTeam('Probe Drop');
    const threadId = await env.world.thread(pat, [{ teamId: team.id }], 'First', 'Probe drop subject');
    const { tab, live } = await liveDashboardOf(a);
    await untilDashboards(env.server, 1);
    await tab.page.getByRole('link', { name: /Probe drop subject/ }).click();
    await tab.page.getByRole('list', { name: 'Messages' }).getByText('First').waitFor();
    // Nothing reaches the page while "down"; then the socket is closed, and the next one passes everything.
    live.drop = () => true;
    await env.world.send(pat, threadId, 'Sent while the page was offline');
    await until(() => live.dropped.some((frame) => frame.includes('Sent while the page was offline')));
    await reconnect(tab, live);
    await tab.page.getByRole('list', { name: 'Messages' }).getByText('Sent while the page was offline').waitFor();
  });

  test('after a reconnection the list starts again from its first page, and a thread pushed off that page meanwhile is on the next', async () => {
    const doctor = await env.world.professional('Probe Pages Doctor');
    const colleague = await env.world.professional('Probe Pages Colleague');
    const subjects = Array.from({ length: 52 }, (_, index) => `Paged ${String(index).padStart(2, '0')}`);
    const ids: string[] = [];
    for (const [index, subject] of subjects.entries()) ids.push(await env.world.thread(colleague, [asRecipient(doctor)], `Note ${index}`, subject));
    const { tab, live } = await liveDashboardOf(doctor);
    await untilDashboards(env.server, 1);
    const list = tab.page.getByRole('list', { name: 'My threads' });
    const shown = () => list.locator('.subject').allTextContents();
    await list.getByRole('link').nth(49).waitFor();
    await tab.page.getByRole('button', { name: 'Show older threads' }).click();
    await list.getByText('Paged 00', { exact: true }).waitFor();

    // Offline, the oldest thread gets a message: it goes to the top, and Paged 02, the first page's
    // last, becomes the 51st: before the cursor the page had, so only a first page asked afresh has it next.
    live.drop = () => true;
    await env.world.send(colleague, ids[0]!, 'Any news?');
    await until(() => live.dropped.some((frame) => frame.includes('Any news?')));
    await reconnect(tab, live);
    await list.getByRole('listitem').first().getByText('Paged 00', { exact: true }).waitFor();
    expect(await shown()).toEqual(['Paged 00', ...subjects.slice(3).reverse()]);
    // Live again: a message moves Paged 03 to the top, and the old second page is never asked for again.
    await env.world.send(colleague, ids[3]!, 'And this one?');
    await list.getByRole('listitem').first().getByText('Paged 03', { exact: true }).waitFor();
    expect(await shown()).toEqual(['Paged 03', 'Paged 00', ...subjects.slice(4).reverse()]);
    await tab.page.getByRole('button', { name: 'Show older threads' }).click();
    await list.getByText('Paged 02', { exact: true }).waitFor();
    expect(await shown()).toEqual(['Paged 03', 'Paged 00', ...subjects.slice(4).reverse(), 'Paged 02', 'Paged 01']);
    expectClean(tab);
  });

  test('a token refused over HTTP ends the session, even while the live socket has not said so', async () => {
    const someone = await env.world.professional('Probe Refused');
    const { tab, live } = await liveDashboardOf(someone, true);
    live.drop = () => true;
    await env.world.as(someone, 'mutation { signOutEverywhere }');
    await tab.page.getByRole('link', { name: 'Notifications' }).click();
    await tab.page.getByRole('alert').filter({ hasText: 'Your session has ended. Sign in again.' }).waitFor();
    await tab.page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  test('a thread one is added back to opens at once, never saying it is not available', async () => {
    const { b, team, pat } = await env.world.careTeam('Probe Back');
    await env.world.setCoverageMinimum(team, 0);
    await env.world.thread(pat, [{ teamId: team.id }], 'Rash', 'Probe back subject');
    const tab = await dashboardOf(b);
    await untilDashboards(env.server, 1);
    await tab.page.getByRole('link', { name: /Probe back subject/ }).click();
    await tab.page.getByRole('heading', { name: 'Probe back subject' }).waitFor();
    await env.world.as(env.world.admin, `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`, { t: team.id, u: b.id });
    await tab.page.getByText('This thread is not available to you any more.').waitFor();
    await tab.page.getByRole('link', { name: 'My threads' }).click();
    await tab.page.getByText('No threads yet.').waitFor();
    // The thread's own query is held: what shows meanwhile is the cache's answer alone.
    const held: Route[] = [];
    await tab.page.route((url) => url.pathname === '/graphql', (route) => {
      if (operationOf(route.request()) === 'Thread') held.push(route);
      else void route.continue();
    });
    await env.world.addMember(team, b);
    await tab.page.getByRole('link', { name: /Probe back subject/ }).click();
    await tab.page.getByText('Loading the thread…').waitFor();
    expect(await tab.page.getByText('This thread is not available to you any more.').count()).toBe(0);
    for (const route of held) await route.continue();
  });

  test('a thread marked done leaves the open inbox from the answer alone, without waiting for its live event', async () => {
    const { a, team, pat } = await env.world.careTeam('Resilient Inbox');
    await env.world.thread(pat, [{ teamId: team.id }], 'My ankle is swollen', 'Resilient ankle');
    const { tab, live } = await liveDashboardOf(a);
    live.drop = (frame) => frame.includes('INBOX_CHANGED');
    await tab.page.getByRole('link', { name: `${team.name} inbox` }).click();
    const item = tab.page.getByRole('article', { name: 'Resilient ankle' });
    await item.getByRole('button', { name: 'Done' }).click();
    await item.waitFor({ state: 'detached' });
  });
});
