import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { ThreadDocument } from '../../web/gql/graphql';
import { describeInBrowser } from '../support/browser';
import { countQueries, DESKTOP, expectAccessible, expectNoSidewaysScroll, PHONE, useDashboards, type Tab } from '../support/dashboard';
import { until, untilDashboards } from '../support/live';
import { gif, letter, png, upload } from '../support/uploads';
import { asRecipient, useWorld, type Person } from '../support/world';

// Files on messages in the dashboard, in headless Chromium against a real server:
// attaching in the thread's reply form and the new-message form (uploads with
// progress, refusals, Remove, the limit of five), showing them on messages, live
// too, and downloading one through a link asked for at the click.

/** What Chromium logs, as a console error, for an upload the server refuses: the only errors a page may show. */
const REFUSED_LOGGED = (status: number, reason: string) => `Failed to load resource: the server responded with a status of ${status} (${reason})`;

describeInBrowser('attachments on the dashboard', () => {
  const env = useWorld();
  const { dashboardOf } = useDashboards(env);
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attachments-dashboard-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Writes `bytes` as a file to pick in the browser's file dialog. */
  async function file(name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  }

  /** How often a page asked for a download link. */
  async function openThread(tab: Tab, subject: string): Promise<void> {
    await tab.page.getByRole('list', { name: 'My threads' }).getByRole('link', { name: new RegExp(subject) }).click();
    await tab.page.getByRole('heading', { name: subject }).waitFor();
  }

  /** A patient and their doctor, each with the patient's thread open. */
  async function consultation(label: string, patientViewport = DESKTOP) {
    const doctor = await env.world.professional(`Dr ${label}`);
    const patient = await env.world.patient(`Patient ${label}`);
    await env.world.share(patient, doctor);
    const subject = `About ${label}`;
    const threadId = await env.world.thread(patient, [asRecipient(doctor)], 'Hello doctor', subject);
    const doctorTab = await dashboardOf(doctor);
    await openThread(doctorTab, subject);
    const patientTab = await dashboardOf(patient, patientViewport);
    await openThread(patientTab, subject);
    await untilDashboards(env.server, 2);
    return { doctor, patient, threadId, doctorTab, patientTab };
  }

  /** Uploads at 128 KiB/s (a photo of about 250 KB takes two seconds), or at full speed again. */
  async function throttleUploads(page: Page, on: boolean): Promise<void> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: on ? 128 * 1024 : -1 });
  }

  /** A photo of noise, which compresses little: large enough for its upload to be seen under way. */
  const noisyPhoto = () =>
    sharp({ create: { width: 360, height: 240, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .png()
      .toBuffer();

  const uploads = (page: Page) => page.getByRole('list', { name: 'Attached files' }).getByRole('listitem');
  const chip = (page: Page, name: string) => uploads(page).filter({ hasText: name });
  /** The files of the thread's last message. */
  const lastAttachments = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByRole('list', { name: 'Attachments' }).last();
  /** Whether an image was loaded and decoded (the page's CSP lets data: images in). */
  const loaded = (image: Locator) =>
    image.evaluate((img) => {
      const { complete, naturalWidth } = img as unknown as { complete: boolean; naturalWidth: number };
      return complete && naturalWidth > 0;
    });
  const focusedName = (page: Page) => page.evaluate<string | null>('document.activeElement.getAttribute("aria-label") ?? document.activeElement.labels?.[0]?.textContent');

  test('a patient attaches a photo and a letter, sees their uploads progress, and sends them with a blank reply; the doctor sees them arrive live and downloads the letter', async () => {
    const { patient, threadId, doctorTab, patientTab } = await consultation('Rash');
    const { page } = patientTab;
    const links = countQueries(doctorTab, 'AttachmentLink');
    const pdf = await letter('Blood results: normal.');
    const paths = [await file('rash.png', await noisyPhoto()), await file('results.pdf', pdf)];

    // Every value the progress bars take, as the page sets them.
    await page.evaluate(`window.progressSeen = [];
      new MutationObserver((records) => {
        for (const record of records) {
          const bars = record.type === 'attributes' ? [record.target] : [...record.addedNodes].filter((node) => node.localName === 'progress' || node.querySelector?.('progress')).map((node) => node.localName === 'progress' ? node : node.querySelector('progress'));
          for (const bar of bars) window.progressSeen.push({ name: bar.getAttribute('aria-label'), value: bar.value, max: bar.max });
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });`);
    await throttleUploads(page, true);

    await page.getByLabel('Attach files').setInputFiles(paths);
    await page.getByRole('progressbar', { name: 'Uploading rash.png' }).waitFor();
    // Sending waits for the uploads.
    await page.getByText('Send reply waits until the files have uploaded.').waitFor();
    expect(await page.getByRole('button', { name: 'Send reply' }).isDisabled()).toBe(true);
    await expectAccessible(page, 'attachments-1-patient-uploading');

    // Each becomes a chip: the photo with its thumbnail, both with name, size and Remove.
    await chip(page, 'rash.png').locator('img').waitFor();
    await chip(page, 'results.pdf').getByRole('button', { name: 'Remove results.pdf' }).waitFor();
    await page.getByRole('progressbar').first().waitFor({ state: 'detached' });
    await throttleUploads(page, false);
    expect(await chip(page, 'rash.png').locator('img').getAttribute('src')).toMatch(/^data:image\/webp;base64,/);
    expect(await uploads(page).allInnerTexts()).toEqual([expect.stringMatching(/^rash\.png\s+\d+ KB\s+Remove$/), `PDF\nresults.pdf\n${pdf.length} bytes\nRemove`]);
    const seen = await page.evaluate<{ name: string; value: number; max: number }[]>('window.progressSeen');
    const bar = (name: string) => seen.filter((s) => s.name === `Uploading ${name}`);
    // Under way, then all sent: the photo's bar was seen part-filled, and both ended full.
    expect(bar('rash.png').some((s) => s.value > 0 && s.value < s.max)).toBe(true);
    for (const name of ['rash.png', 'results.pdf']) expect([bar(name).length > 0, bar(name).at(-1)?.value === bar(name).at(-1)?.max]).toEqual([true, true]);
    await expectAccessible(page, 'attachments-2-patient-chips');

    // No text: the files are the message.
    await page.getByRole('button', { name: 'Send reply' }).click();
    await lastAttachments(page).getByRole('img', { name: 'rash.png' }).waitFor();
    expect(await uploads(page).count()).toBe(0);

    // The doctor's open thread shows them live: the thumbnail at the photo's proportions, the letter by name.
    const doctorFiles = lastAttachments(doctorTab.page);
    await doctorFiles.getByRole('img', { name: 'rash.png' }).waitFor();
    expect(await loaded(doctorFiles.getByRole('img', { name: 'rash.png' }))).toBe(true);
    expect([await doctorFiles.getByRole('img').getAttribute('width'), await doctorFiles.getByRole('img').getAttribute('height')]).toEqual(['160', '107']);
    expect(await doctorFiles.getByRole('listitem').allInnerTexts()).toEqual([
      expect.stringMatching(/^rash\.png\n\d+ KB\nDownload$/),
      `PDF\nresults.pdf\n${pdf.length} bytes\nDownload`,
    ]);
    await expectAccessible(doctorTab.page, 'attachments-3-doctor-sees-files-live');
    await expectNoSidewaysScroll(doctorTab.page);
    const { thread } = await env.world.as(patient, ThreadDocument, { id: threadId, first: 10 });
    expect(thread?.messages.edges.at(-1)?.node).toMatchObject({
      body: '',
      attachments: [expect.objectContaining({ name: 'rash.png', contentType: 'image/png' }), expect.objectContaining({ name: 'results.pdf', contentType: 'application/pdf' })],
    });

    // The link (valid minutes) is asked for at the click, not before; the browser saves the file under its name, and the page stays.
    expect(links.sent).toBe(0);
    const before = doctorTab.page.url();
    const [download] = await Promise.all([doctorTab.page.waitForEvent('download'), doctorFiles.getByRole('button', { name: 'Download results.pdf' }).click()]);
    expect(links.sent).toBe(1);
    expect(download.suggestedFilename()).toBe('results.pdf');
    expect(Buffer.compare(await readFile((await download.path())!), Buffer.from(pdf))).toBe(0);
    expect(doctorTab.page.url()).toBe(before);
    expect(await focusedName(doctorTab.page)).toBe('Download results.pdf');
    expect([doctorTab.reloads, patientTab.reloads, ...doctorTab.errors, ...patientTab.errors]).toEqual([0, 0]);
  }, 40_000);

  test("on a phone, a GIF and a file over the size limit are refused, each with the server's message on its chip; an upload removed while under way is stopped; the other file is still sent", async () => {
    const { patient, doctorTab, patientTab } = await consultation('Refused', PHONE);
    const { page } = patientTab;
    // Over the default ATTACHMENT_MAX_BYTES (10 MiB): the server answers before it has read it all.
    const big = Buffer.alloc(11 * 1024 * 1024, 7);
    const [notAllowed, tooLarge] = [await upload(env.server.url, patient.token, await gif(), { name: 'probe.gif' }), await upload(env.server.url, patient.token, big, { name: 'probe.pdf' })];
    expect([notAllowed.status, notAllowed.body.errors[0].extensions.code]).toEqual([415, 'ATTACHMENT_TYPE_NOT_ALLOWED']);
    expect([tooLarge.status, tooLarge.body.errors[0].extensions.code]).toEqual([413, 'ATTACHMENT_TOO_LARGE']);

    await page.getByLabel('Attach files').setInputFiles([await file('anim.gif', await gif()), await file('scan.png', await png(40, 30)), await file('big.pdf', big)]);
    await chip(page, 'anim.gif').getByRole('alert').filter({ hasText: notAllowed.body.errors[0].message }).waitFor();
    await chip(page, 'big.pdf').getByRole('alert').filter({ hasText: tooLarge.body.errors[0].message }).waitFor({ timeout: 15_000 });
    await chip(page, 'scan.png').locator('img').waitFor();
    await expectAccessible(page, 'attachments-4-phone-refused');
    await expectNoSidewaysScroll(page);

    // Removed while it is still being sent: its upload stops; the last in the list, the focus goes to the Remove before it.
    await throttleUploads(page, true);
    await page.getByLabel('Attach files').setInputFiles([await file('slow.png', await noisyPhoto())]);
    await page.getByRole('progressbar', { name: 'Uploading slow.png' }).waitFor();
    await page.getByRole('button', { name: 'Remove slow.png' }).click();
    expect(await chip(page, 'slow.png').count()).toBe(0);
    expect(await focusedName(page)).toBe('Remove big.pdf');
    expect(await page.getByRole('progressbar').count()).toBe(0);
    await throttleUploads(page, false);

    const send = page.getByRole('button', { name: 'Send reply' });
    await page.getByLabel('Reply', { exact: true }).fill('Only the scan');
    await send.click();

    const files = lastAttachments(doctorTab.page);
    await files.getByRole('img', { name: 'scan.png' }).waitFor();
    expect(await files.getByRole('listitem').count()).toBe(1);
    expect(await doctorTab.page.getByText(/anim\.gif|big\.pdf|slow\.png/).count()).toBe(0);
    // The reply form is empty again, the refusals gone with the message.
    expect(await uploads(page).count()).toBe(0);
    await lastAttachments(page).getByRole('img', { name: 'scan.png' }).waitFor();
    await expectAccessible(page, 'attachments-5-phone-sent-scan');
    await expectNoSidewaysScroll(page);
    expect([doctorTab.reloads, patientTab.reloads, ...doctorTab.errors]).toEqual([0, 0]);
    expect(patientTab.errors.sort()).toEqual([REFUSED_LOGGED(413, 'Payload Too Large'), REFUSED_LOGGED(415, 'Unsupported Media Type')]);
  }, 40_000);

  test('on a phone, a new message takes at most five files, picked by keyboard; one removed, the others start the thread with a blank message', async () => {
    const doctor = await env.world.professional('Dr Phone');
    const patient = await env.world.patient('Patient Phone');
    await env.world.share(patient, doctor);
    const tab = await dashboardOf(patient, PHONE);
    const { page } = tab;
    await page.getByRole('link', { name: 'New message' }).click();
    await chooseRecipient(page, doctor);
    await page.getByLabel('Subject', { exact: true }).fill('Letters from the hospital');
    // A wide photo and long names, which must fit the screen rather than widen the page.
    const names = ['photo-of-the-wound-taken-this-morning-before-the-dressing-was-changed.png'];
    const paths = [await file(names[0], await png(800, 300))];
    for (let i = 1; i <= 5; i++) {
      names.push(`hospital-discharge-letter-from-the-ward-number-${i}.pdf`);
      paths.push(await file(names[i], await letter(`Letter ${i}`)));
    }

    // By keyboard: Tab from the message to the control, and Space opens the file dialog.
    await page.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.press('Tab');
    expect(await focusedName(page)).toBe('Attach files');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles(paths);
    await page.getByRole('alert').filter({ hasText: `A message can carry at most 5 files. Not attached: ${names[5]}.` }).waitFor();
    await until(async () => (await uploads(page).getByRole('button', { name: /^Remove / }).count()) === 5 && (await page.getByRole('progressbar').count()) === 0);
    expect(await uploads(page).count()).toBe(5);
    await expectAccessible(page, 'attachments-6-phone-five-files');
    await expectNoSidewaysScroll(page);

    // Removed by keyboard: the focus goes on to the next file's Remove.
    await page.getByRole('button', { name: `Remove ${names[2]}` }).focus();
    await page.keyboard.press('Enter');
    expect(await uploads(page).count()).toBe(4);
    expect(await focusedName(page)).toBe(`Remove ${names[3]}`);
    await page.getByRole('button', { name: 'Send', exact: true }).click();

    await page.getByRole('heading', { name: 'Letters from the hospital' }).waitFor();
    const files = lastAttachments(page);
    await files.getByRole('listitem').first().waitFor();
    const sent = [names[0], names[1], names[3], names[4]];
    expect(await files.getByRole('listitem').allInnerTexts()).toEqual(sent.map((name) => expect.stringContaining(name)));
    await expectAccessible(page, 'attachments-7-phone-thread');
    await expectNoSidewaysScroll(page);
    const { threads } = await env.world.as(doctor, `{ threads(first: 5) { edges { node { subject lastMessage { body attachments { name } } } } } }`);
    expect(threads.edges.map((e: any) => e.node)).toEqual([{ subject: 'Letters from the hospital', lastMessage: { body: '', attachments: sent.map((name) => ({ name })) } }]);
    expect([tab.reloads, ...tab.errors]).toEqual([0]);
  }, 40_000);

  /** Picks a person in the new-message form's recipient combobox. */
  async function chooseRecipient(page: Page, person: Person): Promise<void> {
    await page.getByRole('combobox', { name: 'To' }).fill(person.name);
    await page.getByRole('option', { name: new RegExp(person.name) }).click();
  }
});
