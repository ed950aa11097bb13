import type { Page } from 'playwright-core';
import { ThreadDocument } from '../../web/gql/graphql';
import { describeInBrowser } from '../support/browser';
import { DESKTOP, expectAccessible, expectClean, expectNoSidewaysScroll, PHONE, useDashboards, type Tab } from '../support/dashboard';
import { untilDashboards } from '../support/live';
import { useWorld } from '../support/world';

/** The composer's fields, by their accessible names. */
function composer(page: Page) {
  return {
    to: page.getByRole('combobox', { name: 'To' }),
    listbox: page.getByRole('listbox', { name: 'To' }),
    options: page.getByRole('listbox', { name: 'To' }).getByRole('option'),
    subject: page.getByLabel('Subject'),
    message: page.getByLabel('Message', { exact: true }),
    send: page.getByRole('button', { name: 'Send' }),
  };
}

async function openComposer(tab: Tab) {
  await tab.page.getByRole('link', { name: 'New message' }).click();
  await tab.page.getByRole('heading', { name: 'New message' }).waitFor();
  return composer(tab.page);
}

/** The id of the element that has the focus. */
const focusedId = (page: Page) => page.evaluate<string | undefined>('document.activeElement?.id');

describeInBrowser('the new-thread composer', () => {
  const env = useWorld();
  const { dashboardOf } = useDashboards(env);

  test('a patient picks their care team by keyboard alone, sends, and the clinician sees the thread arrive live', async () => {
    const { a, pat } = await env.world.careTeam('Cardio');
    const clinician = await dashboardOf(a, DESKTOP);
    const patient = await dashboardOf(pat, PHONE);
    await untilDashboards(env.server, 2);
    const { page } = patient;
    const form = await openComposer(patient);

    expect(await form.to.getAttribute('aria-autocomplete')).toBe('list');
    expect(await form.to.getAttribute('aria-expanded')).toBe('false');
    expect(await form.to.getAttribute('aria-controls')).toBe(await page.getByRole('listbox', { name: 'To', includeHidden: true }).getAttribute('id'));
    await expectAccessible(page, 'composer-patient-closed-phone');

    // The team's members match the search too: the team is offered once, with how many it reaches.
    await form.to.focus();
    await page.keyboard.type('Cardio');
    await page.getByText('1 recipient found').waitFor();
    await form.listbox.getByRole('option', { name: 'Cardio Team team · reaches 2 people' }).waitFor();
    expect(await form.options.count()).toBe(1);
    expect(await form.to.getAttribute('aria-expanded')).toBe('true');
    expect(await form.to.getAttribute('aria-activedescendant')).toBeNull();
    expect(await form.options.first().getAttribute('aria-selected')).toBe('false');
    await expectAccessible(page, 'composer-patient-open-phone');
    await expectNoSidewaysScroll(page);

    await page.keyboard.press('ArrowDown');
    const active = form.listbox.getByRole('option', { selected: true });
    await active.waitFor();
    expect(await form.to.getAttribute('aria-activedescendant')).toBe(await active.getAttribute('id'));
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Remove Cardio Team' }).waitFor();
    await page.getByText('Cardio Team added.').waitFor();
    expect(await form.to.getAttribute('aria-expanded')).toBe('false');
    expect(await form.to.getAttribute('aria-activedescendant')).toBeNull();
    expect(await form.to.inputValue()).toBe('');
    expect(await focusedId(page)).toBe(await form.to.getAttribute('id'));

    await page.keyboard.press('Tab');
    await page.keyboard.type('Palpitations at night');
    expect(await form.subject.inputValue()).toBe('Palpitations at night');
    await page.keyboard.press('Tab');
    await page.keyboard.type('They wake me around 3 am.');
    expect(await form.message.inputValue()).toBe('They wake me around 3 am.');
    await expectAccessible(page, 'composer-patient-ready-phone');
    await expectNoSidewaysScroll(page);
    await form.send.press('Enter');

    await page.waitForURL(/#\/thread\/.+/);
    const threadId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    const { thread } = await env.world.as(a, ThreadDocument, { id: threadId });
    expect(thread?.subject).toBe('Palpitations at night');
    expect(thread?.teams.map((team) => team.name)).toEqual(['Cardio Team']);

    await clinician.page.getByRole('main').getByText('Palpitations at night').waitFor();
    await expectAccessible(clinician.page, 'composer-clinician-sees-new-thread');
    expectClean(patient, clinician);
  });

  test('a professional finds people and teams, closes the list with Escape, and sends to two recipients', async () => {
    const { a, b } = await env.world.careTeam('Ortho');
    // The care team's members are reached through it alone; a professional outside it is offered on their own.
    await env.world.professional('Ortho Dr C');
    const tab = await dashboardOf(a, DESKTOP);
    const { page } = tab;
    const form = await openComposer(tab);

    await form.to.focus();
    await page.keyboard.type('Ortho');
    await page.getByText('3 recipients found').waitFor();
    const team = form.listbox.getByRole('option', { name: 'Ortho Team team · reaches 1 person' });
    const drC = form.listbox.getByRole('option', { name: 'Ortho Dr C Clinician' });
    const patient = form.listbox.getByRole('option', { name: 'Ortho Pat Patient' });
    await Promise.all([team.waitFor(), drC.waitFor(), patient.waitFor()]);
    await expectAccessible(page, 'composer-professional-open-desktop');

    // Up from nothing active goes to the last option; Down from the last wraps to the first.
    await page.keyboard.press('ArrowUp');
    await form.listbox.getByRole('option', { name: 'Ortho Pat Patient', selected: true }).waitFor();
    expect(await form.to.getAttribute('aria-activedescendant')).toBe(await patient.getAttribute('id'));
    await page.keyboard.press('ArrowDown');
    await form.listbox.getByRole('option', { name: /^Ortho Team/, selected: true }).waitFor();
    expect(await form.to.getAttribute('aria-activedescendant')).toBe(await team.getAttribute('id'));
    expect(await patient.getAttribute('aria-selected')).toBe('false');

    await page.keyboard.press('Escape');
    await form.listbox.waitFor({ state: 'hidden' });
    expect(await form.to.getAttribute('aria-expanded')).toBe('false');
    expect(await form.to.inputValue()).toBe('Ortho');
    await expectAccessible(page, 'composer-professional-closed-desktop');
    await page.keyboard.press('Escape');
    expect(await form.to.inputValue()).toBe('');

    await page.keyboard.type('Dr C');
    await drC.waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Remove Ortho Dr C' }).waitFor();

    // Dr C is picked, so no longer offered; the mouse picks the team.
    await page.keyboard.type('Ortho');
    await page.getByText('2 recipients found').waitFor();
    await team.click();
    await page.getByRole('button', { name: 'Remove Ortho Team' }).waitFor();
    expect(await page.getByRole('list', { name: 'Chosen recipients' }).getByRole('listitem').allTextContents()).toHaveLength(2);
    expect(await focusedId(page)).toBe(await form.to.getAttribute('id'));

    await form.subject.fill('Knee review');
    await form.message.fill('Both of you, please see the scan.');
    await form.send.click();
    await page.waitForURL(/#\/thread\/.+/);
    const threadId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    const { thread } = await env.world.as(b, ThreadDocument, { id: threadId });
    expect(thread?.teams.map((t) => t.name)).toEqual(['Ortho Team']);
    expect(thread?.participants.map((p) => p.user.name).sort()).toEqual(['Ortho Dr A', 'Ortho Dr B', 'Ortho Dr C']);
    expectClean(tab);
  });

  test('a send without a recipient, or refused by the server, says why and keeps the form', async () => {
    const { a } = await env.world.careTeam('Derma');
    await env.world.professional('Derma Dr C');
    const tab = await dashboardOf(a, PHONE);
    const { page } = tab;
    const form = await openComposer(tab);

    await form.subject.fill('Rash follow-up');
    await form.message.fill('Photos attached next time.');
    await form.send.click();
    await page.getByText('Choose at least one recipient: type a name and pick from the list.').waitFor();
    expect(await focusedId(page)).toBe(await form.to.getAttribute('id'));
    expect(await form.to.getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'composer-no-recipient-phone');
    await expectNoSidewaysScroll(page);

    await page.keyboard.type('nobody by this name');
    await page.getByText('No one matches').waitFor();
    expect(await form.to.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');

    await page.keyboard.type('Derma Dr C');
    await form.listbox.getByRole('option', { name: 'Derma Dr C Clinician' }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Remove Derma Dr C' }).waitFor();
    expect(await form.to.getAttribute('aria-invalid')).toBeNull();

    // A blank subject is the server's to refuse: its message shows, and nothing typed or picked is lost.
    await form.subject.fill('   ');
    await form.send.click();
    await page.getByRole('alert').filter({ hasText: 'subject must not be blank' }).waitFor();
    expect(await form.message.inputValue()).toBe('Photos attached next time.');
    expect(await page.getByRole('button', { name: 'Remove Derma Dr C' }).count()).toBe(1);
    await expectAccessible(page, 'composer-server-error-phone');

    // Removing a recipient gives the focus back to the field.
    await page.getByRole('button', { name: 'Remove Derma Dr C' }).press('Enter');
    await page.getByText('Derma Dr C removed.').waitFor();
    expect(await page.getByRole('button', { name: 'Remove Derma Dr C' }).count()).toBe(0);
    expect(await focusedId(page)).toBe(await form.to.getAttribute('id'));
    expectClean(tab);
  });
});
