import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { WEB_ROOT } from '../src/web';
import { describeInBrowser, launchBrowser, screenshot } from './support/browser';
import { ok } from './support/graphql';
import { until, untilDashboards } from './support/live';
import { gif, letter, png, upload } from './support/uploads';
import { asRecipient, PASSWORD, useWorld, type Person } from './support/world';

// Files on messages in the reference dashboard, in headless Chromium against a
// real server: attaching in the reply box and the new-message form (uploads with
// progress, refusals, the limit of five), showing them on messages, live too,
// and downloading one through a link asked for at the click.

interface Tab {
  page: Page;
  errors: string[];
  /** How often the page asked for a download link. */
  linksAsked: number;
}

/** What Chromium logs, as a console error, for an upload the server refuses: the only errors a page may show. */
const REFUSED_LOGGED = (status: number, reason: string) => `Failed to load resource: the server responded with a status of ${status} (${reason})`;

describeInBrowser('attachments on the dashboard', () => {
  const env = useWorld();
  let browser: Browser;
  let dir: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!existsSync(join(WEB_ROOT, 'app', 'dashboard.js'))) throw new Error('the dashboard is not built: run npm run build:web');
    browser = await launchBrowser();
    dir = await mkdtemp(join(tmpdir(), 'attachments-dashboard-'));
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await until(() => env.server.live.size === 0 && env.server.app.liveSessions.size === 0);
  });
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes `bytes` as a file to choose in the browser's file dialog. */
  async function file(name: string, bytes: Uint8Array): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  }

  async function dashboardOf(person: Person, options: BrowserContextOptions = {}): Promise<Tab> {
    const context = await browser.newContext(options);
    contexts.push(context);
    context.setDefaultTimeout(5000);
    const page = await context.newPage();
    const tab: Tab = { page, errors: [], linksAsked: 0 };
    page.on('pageerror', (error) => tab.errors.push(error.message));
    page.on('request', (request) => request.postData()?.includes('attachmentLink(') && tab.linksAsked++);
    page.on('console', (message) => message.type() === 'error' && tab.errors.push(message.text()));
    await page.goto(`${new URL(env.server.url).origin}/app`);
    await page.getByLabel('Email').fill(person.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'My threads' }).waitFor();
    await page.getByText('Live updates on.').waitFor();
    return tab;
  }

  async function openThread(tab: Tab, subject: string): Promise<void> {
    await tab.page.getByRole('list', { name: 'My threads' }).getByRole('listitem').filter({ hasText: subject }).getByRole('button').click();
    await tab.page.getByRole('heading', { name: subject }).waitFor();
  }

  /** A patient and their doctor, each with the patient's thread open. */
  async function consultation(label: string, options: BrowserContextOptions = {}) {
    const doctor = await env.world.professional(`Dr ${label}`);
    const patient = await env.world.patient(`Patient ${label}`);
    await env.world.share(patient, doctor);
    const subject = `About ${label}`;
    const threadId = await env.world.thread(patient, [asRecipient(doctor)], 'Hello doctor', subject);
    const doctorTab = await dashboardOf(doctor);
    await openThread(doctorTab, subject);
    const patientTab = await dashboardOf(patient, options);
    await openThread(patientTab, subject);
    await untilDashboards(env.server, 2);
    return { doctor, patient, threadId, doctorTab, patientTab };
  }

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
  const overflows = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth');

  test('a patient attaches a photo and a letter, sees their uploads progress, and sends them with a blank reply; the doctor sees them arrive live and downloads the letter', async () => {
    const { patient, threadId, doctorTab, patientTab } = await consultation('Rash');
    const { page } = patientTab;
    // A photo of noise, which compresses little: large enough for its upload to be seen under way.
    const photo = await sharp({ create: { width: 360, height: 240, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
    const pdf = await letter('Blood results: normal.');
    const paths = [await file('rash.png', photo), await file('results.pdf', pdf)];

    // Every value the progress bars take, as the page sets them.
    await page.evaluate(`window.progressSeen = [];
      new MutationObserver((records) => {
        for (const record of records) {
          const bars = record.type === 'attributes' ? [record.target] : [...record.addedNodes].filter((node) => node.localName === 'progress' || node.querySelector?.('progress')).map((node) => node.localName === 'progress' ? node : node.querySelector('progress'));
          for (const bar of bars) window.progressSeen.push({ name: bar.getAttribute('aria-label'), value: bar.value, max: bar.max });
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });`);
    // Uploads at 128 KiB/s: the photo (about 250 KB) takes two seconds.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 128 * 1024 });

    await page.getByLabel('Attach files').setInputFiles(paths);
    await page.getByRole('progressbar', { name: 'Uploading rash.png' }).waitFor();
    expect(await page.getByRole('button', { name: 'Send reply' }).isDisabled()).toBe(true);
    await screenshot(page, 'attachments-1-patient-uploading');

    // Each becomes a chip: the photo with its thumbnail, both with name, size and Remove.
    await chip(page, 'rash.png').locator('img').waitFor();
    await chip(page, 'results.pdf').getByRole('button', { name: 'Remove results.pdf' }).waitFor();
    await page.getByRole('progressbar').first().waitFor({ state: 'detached' });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    expect(await chip(page, 'rash.png').locator('img').getAttribute('src')).toMatch(/^data:image\/webp;base64,/);
    expect(await uploads(page).allInnerTexts()).toEqual([expect.stringMatching(/^rash\.png\s+\d+ KB\s+Remove$/), `PDF\nresults.pdf\n${pdf.length} bytes\nRemove`]);
    const seen = await page.evaluate<{ name: string; value: number; max: number }[]>('window.progressSeen');
    const bar = (name: string) => seen.filter((s) => s.name === `Uploading ${name}`);
    // Under way, then all sent: the photo's bar was seen part-filled, and both ended full.
    expect(bar('rash.png').some((s) => s.value > 0 && s.value < s.max)).toBe(true);
    for (const name of ['rash.png', 'results.pdf']) expect([bar(name).length > 0, bar(name).at(-1)?.value === bar(name).at(-1)?.max]).toEqual([true, true]);
    await screenshot(page, 'attachments-2-patient-chips');

    // No text: the files are the message.
    const send = page.getByRole('button', { name: 'Send reply' });
    expect(await send.isEnabled()).toBe(true);
    await send.click();
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
    await screenshot(doctorTab.page, 'attachments-3-doctor-sees-files-live');
    const { thread } = await ok(
      env.server.url,
      `query($t: ID!) { thread(id: $t) { messages(first: 10) { edges { node { body attachments { name contentType } } } } } }`,
      { t: threadId },
      patient.token,
    );
    expect(thread.messages.edges.at(-1).node).toEqual({
      body: '',
      attachments: [
        { name: 'rash.png', contentType: 'image/png' },
        { name: 'results.pdf', contentType: 'application/pdf' },
      ],
    });

    // The link (valid minutes) is asked for at the click, not before; the browser saves the file under its name, and the page stays.
    expect(doctorTab.linksAsked).toBe(0);
    const [download] = await Promise.all([doctorTab.page.waitForEvent('download'), doctorFiles.getByRole('button', { name: 'Download results.pdf' }).click()]);
    expect(doctorTab.linksAsked).toBe(1);
    expect(download.suggestedFilename()).toBe('results.pdf');
    expect(Buffer.compare(await readFile((await download.path())!), Buffer.from(pdf))).toBe(0);
    expect(doctorTab.page.url()).toMatch(/\/app$/);
    expect([...doctorTab.errors, ...patientTab.errors]).toEqual([]);
  }, 40_000);

  test("a GIF and a file over the size limit are refused, each with the server's message beside it, and the other file is still sent", async () => {
    const { patient, doctorTab, patientTab } = await consultation('Refused');
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
    await screenshot(page, 'attachments-4-refused');
    const send = page.getByRole('button', { name: 'Send reply' });
    expect(await send.isEnabled()).toBe(true);
    await page.getByLabel('Reply', { exact: true }).fill('Only the scan');
    await send.click();

    const files = lastAttachments(doctorTab.page);
    await files.getByRole('img', { name: 'scan.png' }).waitFor();
    expect(await files.getByRole('listitem').count()).toBe(1);
    expect(await doctorTab.page.getByText(/anim\.gif|big\.pdf/).count()).toBe(0);
    // The reply box is empty again, the refusals gone with the message.
    expect(await uploads(page).count()).toBe(0);
    expect(doctorTab.errors).toEqual([]);
    expect(patientTab.errors.sort()).toEqual([REFUSED_LOGGED(413, 'Payload Too Large'), REFUSED_LOGGED(415, 'Unsupported Media Type')]);
  }, 40_000);

  test('on a phone, a new message takes at most five files, chosen by keyboard; one removed, the others start the thread with a blank message', async () => {
    const doctor = await env.world.professional('Dr Phone');
    const patient = await env.world.patient('Patient Phone');
    await env.world.share(patient, doctor);
    const tab = await dashboardOf(patient, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const { page } = tab;
    await page.getByRole('button', { name: 'New message' }).click();
    await page.getByLabel('To', { exact: true }).selectOption(`user:${doctor.id}`);
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
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles(paths);
    await page.getByRole('alert').filter({ hasText: `A message can carry at most 5 files. Not attached: ${names[5]}.` }).waitFor();
    await until(async () => (await page.getByRole('button', { name: /^Remove / }).count()) === 5 && (await page.getByRole('progressbar').count()) === 0);
    expect(await uploads(page).count()).toBe(5);
    expect(await overflows(page)).toBe(false);
    await screenshot(page, 'attachments-5-phone-five-files');

    // Removed by keyboard: the focus goes on to the next file's Remove.
    await page.getByRole('button', { name: `Remove ${names[2]}` }).focus();
    await page.keyboard.press('Enter');
    expect(await uploads(page).count()).toBe(4);
    expect(await page.evaluate<string | null>('document.activeElement.getAttribute("aria-label")')).toBe(`Remove ${names[3]}`);
    await page.getByRole('button', { name: 'Send', exact: true }).click();

    await page.getByRole('heading', { name: 'Letters from the hospital' }).waitFor();
    const files = lastAttachments(page);
    await files.getByRole('listitem').first().waitFor();
    const sent = [names[0], names[1], names[3], names[4]];
    expect(await files.getByRole('listitem').allInnerTexts()).toEqual(sent.map((name) => expect.stringContaining(name)));
    expect(await overflows(page)).toBe(false);
    await screenshot(page, 'attachments-6-phone-thread');
    const { threads } = await ok(env.server.url, `{ threads(first: 5) { edges { node { subject lastMessage { body attachments { name } } } } } }`, {}, doctor.token);
    expect(threads.edges.map((e: any) => e.node)).toEqual([{ subject: 'Letters from the hospital', lastMessage: { body: '', attachments: sent.map((name) => ({ name })) } }]);
    expect(tab.errors).toEqual([]);
  });
});
