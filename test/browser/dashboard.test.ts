import { SendMessageDocument, ThreadDocument } from '../../web/gql/graphql';
import { auditEvents } from '../support/audit-requests';
import { describeInBrowser, screenshot } from '../support/browser';
import { DESKTOP, expectAccessible, expectClean, expectNoSidewaysScroll, PHONE, tabTo, untilFocused, useDashboards, type Tab } from '../support/dashboard';
import { gql, ok } from '../support/graphql';
import { until, untilDashboards } from '../support/live';
import { useWorld, type Person } from '../support/world';

// My threads and the open thread at /app, in headless Chromium against a real
// server: each person in their own browser context, as on two machines.

describeInBrowser('the dashboard: my threads and the open thread', () => {
  const env = useWorld();
  const { openApp, signIn, dashboardOf } = useDashboards(env);

  const myThreads = (tab: Tab) => tab.page.getByRole('list', { name: 'My threads' });
  const threadItem = (tab: Tab, subject: string) => myThreads(tab).getByRole('listitem').filter({ hasText: subject });
  const topThread = (tab: Tab, subject: string) => myThreads(tab).getByRole('listitem').first().filter({ hasText: subject });
  const message = (tab: Tab, body: string) => tab.page.getByRole('list', { name: 'Messages' }).getByRole('listitem').filter({ hasText: body });
  const person = (tab: Tab, name: string) => tab.page.getByRole('list', { name: 'People in this thread' }).getByRole('listitem').filter({ hasText: name });
  const subjectHeading = (tab: Tab, subject: string) => tab.page.getByRole('heading', { name: subject, exact: true });

  async function openThread(tab: Tab, subject: string): Promise<void> {
    await threadItem(tab, subject).getByRole('link').click();
    await subjectHeading(tab, subject).waitFor();
  }

  async function reply(tab: Tab, body: string, staffNote = false): Promise<void> {
    await tab.page.getByLabel('Reply', { exact: true }).fill(body);
    if (staffNote) await tab.page.getByLabel('Staff note (not shown to the patient)').check();
    await tab.page.getByRole('button', { name: 'Send reply' }).click();
    await message(tab, body).waitFor();
  }

  test('a patient writes to the team as one option; a clinician sees it arrive live, and the reply reaches the patient live', async () => {
    const { a, team, pat } = await env.world.careTeam('Dash');
    const clinician = await dashboardOf(a);
    const patient = await dashboardOf(pat);
    // Both pages hold their subscription on the server before anything is sent.
    await untilDashboards(env.server, 2);

    await patient.page.getByRole('link', { name: 'New message' }).click();
    await patient.page.getByRole('combobox', { name: 'To' }).fill('Dash');
    // The team is a single option, naming how many it reaches; its members are not offered.
    const options = patient.page.getByRole('listbox', { name: 'To' }).getByRole('option');
    await options.filter({ hasText: team.name }).waitFor();
    expect(await options.allTextContents()).toEqual([`${team.name} team · reaches 2 people`]);
    await options.filter({ hasText: team.name }).click();
    // Markup in user data must show as text, never run or render.
    const subject = '<b>Morning readings</b>';
    const first = 'Above 12 all week <img src=x>';
    await patient.page.getByLabel('Subject', { exact: true }).fill(subject);
    await patient.page.getByLabel('Message', { exact: true }).fill(first);
    await screenshot(patient.page, 'threads-1-patient-picks-team');
    await patient.page.getByRole('button', { name: 'Send', exact: true }).click();
    await subjectHeading(patient, subject).waitFor();
    await message(patient, first).waitFor();

    // The clinician's list gains the thread, unread, without a reload.
    await threadItem(clinician, subject).getByText('1 unread').waitFor();
    await threadItem(clinician, subject).getByText(`Patient: ${pat.name}`).waitFor();
    await threadItem(clinician, subject).getByText(`Team: ${team.name}`).waitFor();
    await screenshot(clinician.page, 'threads-2-clinician-new-thread-unread');
    await openThread(clinician, subject);
    await message(clinician, first).waitFor();
    expect(await clinician.page.locator('.thread-pane img').count()).toBe(0);
    // Opening the thread marks it read.
    await threadItem(clinician, subject).getByText('unread').waitFor({ state: 'detached' });

    // With the thread open, the patient's next message appears on the clinician's page live.
    await reply(patient, 'It was 14 this morning');
    await message(clinician, 'It was 14 this morning').waitFor();
    await screenshot(clinician.page, 'threads-3-clinician-sees-message-live');

    // And the clinician's reply reaches the patient live.
    await reply(clinician, 'Please come in tomorrow at 9');
    await message(patient, 'Please come in tomorrow at 9').waitFor();
    await screenshot(patient.page, 'threads-4-patient-sees-reply-live');

    expect(await message(patient, 'Please come in tomorrow at 9').locator('strong').textContent()).toBe(a.name);
    expectClean(clinician, patient);
  });

  test('a new message shows on the open thread of another page, and moves its thread to the top of the list, unread', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Move');
    const older = await env.world.thread(pat, [{ teamId: team.id }], 'My knee hurts', 'Move knee');
    await env.world.thread(pat, [{ teamId: team.id }], 'Can I change my appointment?', 'Move appointment');
    const first = await dashboardOf(a);
    const second = await dashboardOf(b);
    await untilDashboards(env.server, 2);
    // Newest activity first.
    await topThread(second, 'Move appointment').waitFor();
    await threadItem(second, 'Move knee').getByText('1 unread').waitFor();
    await threadItem(second, 'Move knee').getByText(`${pat.name}: My knee hurts`).waitFor();
    await openThread(second, 'Move appointment');
    await threadItem(second, 'Move appointment').locator('a[aria-current="true"]').waitFor();

    await openThread(first, 'Move knee');
    const reads = { actorId: b.id, action: 'THREAD_READ' };
    const readsBefore = (await auditEvents(env.server.url, env.world.admin.token, reads)).length;
    await reply(first, 'Rest it and use ice');
    // On the other page the knee thread moves to the top with its new message unread.
    await topThread(second, 'Move knee').getByText('2 unread').waitFor();
    await threadItem(second, 'Move knee').getByText(`${a.name}: Rest it and use ice`).waitFor();
    await screenshot(second.page, 'threads-5-moved-to-top-unread');
    // Pushed to the page, the message is recorded as delivered (before it shows), and the thread
    // the page did not open is not recorded as read: the feed carries no subject or participants.
    expect((await auditEvents(env.server.url, env.world.admin.token, reads)).length).toBe(readsBefore);

    // Open there, the next message appears live and is read at once.
    await openThread(second, 'Move knee');
    await threadItem(second, 'Move knee').getByText('unread').waitFor({ state: 'detached' });
    await env.world.send(pat, older, 'It is swollen now');
    await message(second, 'It is swollen now').waitFor();
    await message(first, 'It is swollen now').waitFor();
    await threadItem(second, 'Move knee').getByText('unread').waitFor({ state: 'detached' });
    await until(async () => (await env.world.as(b, ThreadDocument, { id: older })).thread?.unreadCount === 0);
    expectClean(first, second);
  });

  test('a participant who leaves drops out of the other page’s participant list live, and the thread leaves their own list', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Leave');
    await env.world.thread(pat, [{ teamId: team.id }], 'Is the clinic open on Saturday?', 'Leave Saturday');
    const staying = await dashboardOf(a);
    const leaving = await dashboardOf(b);
    await untilDashboards(env.server, 2);
    await openThread(staying, 'Leave Saturday');
    await openThread(leaving, 'Leave Saturday');
    await person(staying, b.name).getByText(`professional via ${team.name}`).waitFor();
    await person(staying, pat.name).getByText('patient').waitFor();

    // Leaving asks first; Cancel puts the focus back on the button.
    const leaveButton = leaving.page.getByRole('button', { name: 'Leave thread' });
    await leaveButton.click();
    const yes = leaving.page.getByRole('button', { name: 'Yes, leave' });
    await leaving.page.getByRole('group', { name: /Leave this thread\?/ }).waitFor();
    await untilFocused(yes);
    await expectAccessible(leaving.page, 'threads-6-leave-asks-first');
    await leaving.page.getByRole('button', { name: 'Cancel' }).click();
    await untilFocused(leaveButton);

    await leaveButton.click();
    await yes.click();
    const left = leaving.page.getByText('You left this thread.');
    await left.waitFor();
    await untilFocused(left);
    await threadItem(leaving, 'Leave Saturday').waitFor({ state: 'detached' });
    await leaving.page.getByText('No threads yet.').waitFor();
    await person(staying, b.name).waitFor({ state: 'detached' });
    await person(staying, a.name).waitFor();
    await screenshot(staying.page, 'threads-7-participant-left-live');
    await expectAccessible(leaving.page, 'threads-8-you-left');
    // The page does not ask again for the thread it left, which the server would record as a refused read.
    expect(await auditEvents(env.server.url, env.world.admin.token, { actorId: b.id, outcome: 'DENIED' })).toEqual([]);
    expectClean(staying, leaving);
  });

  test('someone taken off the thread sees at once that it is not available to them any more', async () => {
    const { b, team, pat } = await env.world.careTeam('Removed');
    await env.world.setCoverageMinimum(team, 0);
    await env.world.thread(pat, [{ teamId: team.id }], 'New rash on my arm', 'Removed rash');
    const tab = await dashboardOf(b, PHONE);
    await untilDashboards(env.server, 1);
    await openThread(tab, 'Removed rash');
    // Opening it marks it read: done before the removal, which would otherwise refuse the late mark.
    await until(async () => (await auditEvents(env.server.url, env.world.admin.token, { actorId: b.id, action: 'THREAD_MARKED_READ' })).length === 1);
    // Through the team only: leaving the team takes them off the thread.
    await env.world.as(env.world.admin, `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`, { t: team.id, u: b.id });
    await tab.page.getByText('This thread is not available to you any more.').waitFor();
    // Told by the live event, the page does not ask the server again for a thread it may no longer read.
    expect(await auditEvents(env.server.url, env.world.admin.token, { actorId: b.id, outcome: 'DENIED' })).toEqual([]);
    await tab.page.getByRole('link', { name: 'Back to my threads' }).click();
    await tab.page.getByText('No threads yet.').waitFor();
    // Back in the team, they are back in the thread: it returns to the list and opens again.
    await env.world.addMember(team, b);
    await openThread(tab, 'Removed rash');
    await message(tab, 'New rash on my arm').waitFor();
    expect(await tab.page.getByText('This thread is not available to you any more.').count()).toBe(0);
    expectClean(tab);
  });

  test('a staff note shows marked to the other professional and never reaches the patient; each reply says who read it', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Notes');
    const threadId = await env.world.thread(pat, [{ teamId: team.id }], 'My blood pressure is 150/95', 'Notes pressure');
    await env.world.thread(pat, [{ teamId: team.id }], 'Can I come on Friday instead?', 'Notes newer');
    const writer = await dashboardOf(a);
    const colleague = await dashboardOf(b);
    const patient = await dashboardOf(pat);
    await untilDashboards(env.server, 3);
    await Promise.all([openThread(writer, 'Notes pressure'), openThread(colleague, 'Notes pressure'), openThread(patient, 'Notes pressure')]);
    // A patient has no staff-note switch.
    expect(await patient.page.getByLabel('Staff note (not shown to the patient)').count()).toBe(0);

    await reply(writer, 'Consider raising the dose', true);
    const note = message(colleague, 'Consider raising the dose');
    await note.getByText('Staff note — not shown to the patient').waitFor();
    await threadItem(colleague, 'Notes pressure').getByText(`Staff note · ${a.name}: Consider raising the dose`).waitFor();
    // The list keeps the server's order, which a staff note does not move (a reload would not either).
    await topThread(colleague, 'Notes newer').waitFor();
    await expectAccessible(colleague.page, 'threads-9-staff-note-marked');

    // The patient's page gets the next ordinary message, and never the note before it.
    await reply(writer, 'Please measure it again tonight');
    await message(patient, 'Please measure it again tonight').waitFor();
    await topThread(colleague, 'Notes pressure').waitFor();
    expect(await patient.page.getByText('Consider raising the dose').count()).toBe(0);
    expect(await patient.page.getByText(/staff note/i).count()).toBe(0);
    await screenshot(patient.page, 'threads-10-patient-without-staff-note');

    // Both open pages mark what arrives read; reopened, the writer's page says by whom.
    const readers = async (body: string) => {
      const { thread } = await env.world.as(a, ThreadDocument, { id: threadId });
      return thread?.messages.edges.find((edge) => edge.node.body === body)?.node.readBy.map((reader) => reader.name).sort() ?? [];
    };
    await until(async () => (await readers('Please measure it again tonight')).length === 2);
    // A patient's read mark passes over the note, which they never saw: it is not read by them.
    expect(await readers('Consider raising the dose')).toEqual([b.name]);
    await writer.page.getByRole('link', { name: 'My threads', exact: true }).click();
    await openThread(writer, 'Notes pressure');
    await message(writer, 'Consider raising the dose').getByText(`Read by ${b.name}`, { exact: true }).waitFor();
    await message(writer, 'Please measure it again tonight').getByText(/^Read by /).waitFor();
    const readState = await message(writer, 'Please measure it again tonight').locator('.read-state').textContent();
    expect(readState?.replace('Read by ', '').split(', ').sort()).toEqual([pat.name, b.name].sort());
    await person(writer, pat.name).getByText(/read up to/).waitFor();
    // The patient sees who read their message too.
    await patient.page.getByRole('link', { name: 'My threads', exact: true }).click();
    await openThread(patient, 'Notes pressure');
    await message(patient, 'My blood pressure is 150/95').getByText(/^Read by /).waitFor();
    expectClean(writer, colleague, patient);
  });

  test('a reply the server refuses shows the server’s error, and the corrected reply is sent once', async () => {
    const { a, team, pat } = await env.world.careTeam('Refused');
    const threadId = await env.world.thread(pat, [{ teamId: team.id }], 'Where do I park?', 'Refused parking');
    const tab = await dashboardOf(a);
    await openThread(tab, 'Refused parking');
    // The patient wrote its first message and has not opened it since: started, not unread.
    await person(tab, pat.name).getByText('started the thread').waitFor();
    await person(tab, a.name).getByText(/read up to/).waitFor();
    await tab.page.getByRole('button', { name: 'Send reply' }).click();
    const alert = tab.page.locator('form.reply').getByRole('alert');
    await alert.waitFor();
    // The server's own words, as explain() gives a BAD_USER_INPUT.
    const refusal = await gql(env.server.url, SendMessageDocument, { threadId, body: '' }, a.token);
    expect(await alert.textContent()).toBe(refusal.errors?.[0].message);
    await expectAccessible(tab.page, 'threads-11-reply-refused');
    await reply(tab, 'Behind the clinic');
    await alert.waitFor({ state: 'detached' });
    const { thread } = await env.world.as(a, ThreadDocument, { id: threadId });
    expect(thread?.messages.edges.map((edge) => edge.node.body)).toEqual(['Where do I park?', 'Behind the clinic']);
    expectClean(tab);
  });

  test('by keyboard alone: Tab to a thread, Enter opens it, and a reply is written and sent', async () => {
    const { a, team, pat } = await env.world.careTeam('Keys');
    await env.world.thread(pat, [{ teamId: team.id }], 'Can I take it with food?', 'Keys food');
    const tab = await dashboardOf(a);
    const link = threadItem(tab, 'Keys food').getByRole('link');
    await link.waitFor();
    await tabTo(tab.page, link);
    await tab.page.keyboard.press('Enter');
    const heading = subjectHeading(tab, 'Keys food');
    await heading.waitFor();
    // Opening moves the focus to the thread.
    await untilFocused(heading);
    const box = tab.page.getByLabel('Reply', { exact: true });
    await tabTo(tab.page, box);
    await tab.page.keyboard.type('Yes, with breakfast');
    await tabTo(tab.page, tab.page.getByRole('button', { name: 'Send reply' }));
    await tab.page.keyboard.press('Enter');
    await message(tab, 'Yes, with breakfast').waitFor();
    // Back in the emptied box, ready for the next reply.
    await untilFocused(box);
    expect(await box.inputValue()).toBe('');
    expectClean(tab);
  });

  test('my threads and an open thread are accessible and fit a phone and a desktop', async () => {
    const { a, b, team, pat } = await env.world.careTeam('Fit');
    const long = 'Unbroken'.repeat(20);
    const threadId = await env.world.thread(pat, [{ teamId: team.id }], `${long} body`, `Fit ${long}`);
    await env.world.thread(pat, [{ teamId: team.id }], 'Thanks for the call', 'Fit thanks');
    await env.world.as(b, SendMessageDocument, { threadId, body: 'Check the ankle too', staffOnly: true });
    await env.world.send(a, threadId, `Reply with ${long}`);

    const phone = await dashboardOf(a, PHONE);
    await threadItem(phone, 'Fit thanks').waitFor();
    await expectAccessible(phone.page, 'threads-12-list-phone');
    await expectNoSidewaysScroll(phone.page);
    await openThread(phone, `Fit ${long}`);
    // On a phone the open thread takes the screen, with a way back to the list.
    await myThreads(phone).waitFor({ state: 'hidden' });
    await message(phone, 'Check the ankle too').waitFor();
    await expectAccessible(phone.page, 'threads-13-thread-phone');
    await expectNoSidewaysScroll(phone.page);
    await phone.page.getByRole('link', { name: 'Back to my threads' }).click();
    await myThreads(phone).waitFor();

    const desktop = await dashboardOf(a, DESKTOP);
    await expectAccessible(desktop.page, 'threads-14-list-desktop');
    await openThread(desktop, `Fit ${long}`);
    await myThreads(desktop).waitFor();
    expect(await desktop.page.getByRole('link', { name: 'Back to my threads' }).isVisible()).toBe(false);
    await expectAccessible(desktop.page, 'threads-15-thread-desktop');
    await expectNoSidewaysScroll(desktop.page);

    const newcomer = await dashboardOf(await env.world.professional('Fit Newcomer'), PHONE);
    await newcomer.page.getByText('No threads yet.').waitFor();
    await expectAccessible(newcomer.page, 'threads-16-empty-phone');
    expectClean(phone, desktop, newcomer);
  });

  test('Sign out ends the session on the server: its token is refused, and the sign-in form shows', async () => {
    const someone = await env.world.professional('Dash Sign Out');
    const tab = await dashboardOf(someone);
    const token = await tab.page.evaluate<string>(`JSON.parse(sessionStorage.getItem('carethread.session')).token`);
    expect((await ok(env.server.url, '{ me { id } }', {}, token)).me.id).toBe(someone.id);

    await tab.page.getByRole('button', { name: 'Sign out' }).click();
    await tab.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await until(async () => (await gql(env.server.url, '{ me { id } }', {}, token)).errors?.[0].extensions?.code === 'UNAUTHENTICATED');
    expectClean(tab);
  });

  test('a wrong password shows an error and stays on the sign-in form', async () => {
    const someone: Person = await env.world.professional('Dash Wrong Password');
    const tab = await openApp();
    await signIn(tab, someone, 'not-the-password');
    await tab.page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
    await expectAccessible(tab.page, 'threads-17-wrong-password');
    expect(await tab.page.getByRole('heading', { name: 'My threads' }).count()).toBe(0);
    expectClean(tab);
  });
});
