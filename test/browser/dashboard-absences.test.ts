import type { Page } from 'playwright-core';
import { MyAbsencesDocument, RecordAbsenceDocument } from '../../web/gql/graphql';
import { describeInBrowser } from '../support/browser';
import { DESKTOP, expectAccessible, expectClean, expectNoSidewaysScroll, PHONE, useDashboards } from '../support/dashboard';
import { failure } from '../support/graphql';
import { until } from '../support/live';
import { useWorld, type Person } from '../support/world';

// A professional's absences on the dashboard: recording one, seeing it and being away, cancelling
// it, and a bad range refused with the server's own message. Real server, headless Chromium.

const HOUR = 60 * 60 * 1000;

/** `at` as a datetime-local value in this machine's zone, which the browser it starts shares. */
function local(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** A whole minute, `hours` from now: what a datetime-local field can hold. */
const fromNow = (hours: number) => new Date(Math.floor((Date.now() + hours * HOUR) / 60_000) * 60_000);

describeInBrowser('absences on the dashboard', () => {
  const env = useWorld();
  const { dashboardOf } = useDashboards(env);

  async function openAbsences(page: Page): Promise<void> {
    await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Absences' }).click();
    await page.getByRole('heading', { name: 'Absences', exact: true }).waitFor();
  }

  async function fill(page: Page, starts: Date, ends: Date, reason = ''): Promise<void> {
    await page.getByLabel('Starts').fill(local(starts));
    await page.getByLabel('Ends').fill(local(ends));
    await page.getByLabel('Reason').fill(reason);
  }

  const absencesOf = async (person: Person) => (await env.world.as(person, MyAbsencesDocument)).me;

  test('an absence from now on is recorded and listed, the professional is shown away, and Cancel takes it back', async () => {
    const pro = await env.world.professional('Absent Pro');
    const tab = await dashboardOf(pro, DESKTOP);
    const { page } = tab;
    await openAbsences(page);
    await page.getByText('No current or upcoming absences.').waitFor();
    await page.getByText('You are not away now.').waitFor();
    await expectAccessible(page, 'absences-1-empty-desktop');

    // Started an hour ago: away now.
    const starts = fromNow(-1);
    const ends = fromNow(48);
    await fill(page, starts, ends, 'Study leave');
    await page.getByRole('button', { name: 'Record absence' }).click();
    await page.getByRole('status').filter({ hasText: 'Absence recorded.' }).waitFor();
    const item = page.getByRole('list', { name: 'Your absences' }).getByRole('listitem').filter({ hasText: 'Study leave' });
    await item.waitFor();
    await page.getByText(/^You are away until /).waitFor();
    expect(await page.getByLabel('Starts').inputValue()).toBe('');
    const recorded = await absencesOf(pro);
    expect(recorded.absences).toEqual([expect.objectContaining({ startsAt: starts.toISOString(), endsAt: ends.toISOString(), reason: 'Study leave' })]);
    expect(recorded.awayUntil).toBe(ends.toISOString());
    await expectAccessible(page, 'absences-2-recorded-desktop');

    // By keyboard: the item's Cancel, described by its dates; focus then goes to the list's heading.
    const cancel = item.getByRole('button', { name: 'Cancel' });
    expect(await cancel.getAttribute('aria-describedby')).toBeTruthy();
    await cancel.focus();
    await page.keyboard.press('Enter');
    await page.getByText('No current or upcoming absences.').waitFor();
    await page.getByText('You are not away now.').waitFor();
    await until(async () => (await page.evaluate<string | undefined>('document.activeElement?.textContent')) === 'Your absences', 3000, 'the focus on Your absences');
    expect(await absencesOf(pro)).toEqual({ id: pro.id, awayUntil: null, absences: [] });
    await expectAccessible(page, 'absences-3-cancelled-desktop');
    expectClean(tab);
  });

  test.each([
    ['an end before the start', fromNow(30), fromNow(20)],
    ['an absence in the past', fromNow(-30), fromNow(-20)],
  ])('%s shows the server’s error, and nothing is recorded', async (what, starts, ends) => {
    const pro = await env.world.professional(`Absent Bad ${what}`);
    const refused = await failure(env.server.url, RecordAbsenceDocument, { startsAt: starts.toISOString(), endsAt: ends.toISOString() }, pro.token);
    expect(refused.extensions?.code).toBe('BAD_USER_INPUT');
    const { page, errors } = await dashboardOf(pro, PHONE);
    await openAbsences(page);

    await fill(page, starts, ends);
    await page.getByRole('button', { name: 'Record absence' }).click();
    await page.getByRole('alert').filter({ hasText: refused.message }).waitFor();
    await expectAccessible(page, `absences-4-refused-${what.replace(/\W+/g, '-')}-phone`);
    expect(await page.getByText('Absence recorded.').count()).toBe(0);
    expect(await page.getByText('No current or upcoming absences.').isVisible()).toBe(true);
    expect((await absencesOf(pro)).absences).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('empty dates are asked for before anything is sent', async () => {
    const pro = await env.world.professional('Absent Empty');
    const { page, errors } = await dashboardOf(pro, PHONE);
    await openAbsences(page);
    await page.getByRole('button', { name: 'Record absence' }).click();
    await page.getByRole('alert').filter({ hasText: 'Give the date and time the absence starts and ends.' }).waitFor();
    expect((await absencesOf(pro)).absences).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('on a phone, a listed absence with a long reason fits the screen and passes axe', async () => {
    const pro = await env.world.professional('Absent Phone With A Rather Long Name For A Narrow Screen');
    const reason = 'Conference-in-another-city-with-a-very-long-unbroken-description-of-the-trip';
    await env.world.as(pro, RecordAbsenceDocument, { startsAt: fromNow(24).toISOString(), endsAt: fromNow(72).toISOString(), reason });
    const { page, errors } = await dashboardOf(pro, PHONE);
    await openAbsences(page);
    await page.getByRole('listitem').filter({ hasText: reason }).waitFor();
    // Upcoming, not yet away.
    await page.getByText('You are not away now.').waitFor();
    await expectAccessible(page, 'absences-5-listed-phone');
    await expectNoSidewaysScroll(page);
    expect(errors).toEqual([]);
  });
});
