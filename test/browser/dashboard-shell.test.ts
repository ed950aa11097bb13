import { describeInBrowser } from '../support/browser';
import { DESKTOP, expectAccessible, expectNoSidewaysScroll, PHONE, useDashboards } from '../support/dashboard';
import { useWorld } from '../support/world';

// The signed-in shell around every view: who is signed in, the links to each
// view (by what the person may use), the live status, and what a reload or a
// session ended elsewhere does.

describeInBrowser('the dashboard shell', () => {
  const env = useWorld();
  const { openApp, dashboardOf } = useDashboards(env);

  test('a professional reaches every view of theirs from the links, by keyboard alone, and a reload keeps the view', async () => {
    const { a, team } = await env.world.careTeam('Shell');
    const tab = await dashboardOf(a);
    const nav = tab.page.getByRole('navigation', { name: 'Dashboard' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['My threads', 'New message', `${team.name} inbox`, 'Absences', 'Notifications']);
    expect(await nav.getByRole('link', { name: 'My threads' }).getAttribute('aria-current')).toBe('page');

    // From the top of the page: Sign out, then the links in order.
    await tab.page.keyboard.press('Tab');
    await tab.page.keyboard.press('Tab');
    await tab.page.keyboard.press('Tab');
    await tab.page.keyboard.press('Tab');
    await tab.page.keyboard.press('Tab');
    expect(await tab.page.evaluate('document.activeElement?.textContent')).toBe('Absences');
    await tab.page.keyboard.press('Enter');
    await tab.page.getByRole('heading', { name: 'Absences', exact: true }).waitFor();
    expect(await nav.getByRole('link', { name: 'Absences' }).getAttribute('aria-current')).toBe('page');
    await expectAccessible(tab.page, 'shell-professional-desktop');

    await tab.page.reload();
    await tab.page.getByRole('heading', { name: 'Absences', exact: true }).waitFor();
    await tab.page.getByText('Live updates on.').waitFor();
    expect(tab.errors).toEqual([]);
  });

  test('a patient is offered their access log and no team inbox or absences, on a phone without sideways scrolling', async () => {
    const { pat } = await env.world.careTeam('Shell Patient');
    const tab = await dashboardOf(pat, PHONE);
    const nav = tab.page.getByRole('navigation', { name: 'Dashboard' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['My threads', 'New message', 'Who saw my messages', 'Notifications']);
    await expectNoSidewaysScroll(tab.page);
    await expectAccessible(tab.page, 'shell-patient-phone');
    expect(tab.errors).toEqual([]);
  });

  test('the page and everything it loads come from the server itself: nothing from another origin', async () => {
    const someone = await env.world.professional('Shell Offline');
    const tab = await openApp(DESKTOP);
    const origin = new URL(env.server.url).origin;
    const elsewhere: string[] = [];
    tab.page.on('request', (request) => !request.url().startsWith(`${origin}/`) && !request.url().startsWith('data:') && elsewhere.push(request.url()));
    await tab.page.reload();
    await tab.page.getByLabel('Email').fill(someone.email);
    await tab.page.getByLabel('Password').fill('password-1234');
    await tab.page.getByRole('button', { name: 'Sign in' }).click();
    await tab.page.getByText('Live updates on.').waitFor();
    await tab.page.getByRole('link', { name: 'Notifications' }).click();
    await tab.page.getByRole('heading', { name: 'Notifications' }).waitFor();
    expect(elsewhere).toEqual([]);
  });

  test('a session ended elsewhere (sign out everywhere) brings the sign-in form back, saying why', async () => {
    const someone = await env.world.professional('Shell Ended');
    const tab = await dashboardOf(someone);
    await env.world.as(someone, 'mutation { signOutEverywhere }');
    await tab.page.getByRole('alert').filter({ hasText: 'Your session has ended. Sign in again.' }).waitFor();
    await tab.page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await tab.page.evaluate("sessionStorage.getItem('carethread.session')")).toBeNull();
  });
});
