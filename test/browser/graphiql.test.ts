import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, validate } from 'graphql';
import type { Browser, Page } from 'playwright-core';
import { getSchema } from '../../src/schema';
import { WEB_ROOT } from '../../src/web';
import { EXAMPLES, TOKEN_PLACEHOLDER } from '../../web/graphiql/examples';
import { LoginDocument } from '../../web/gql/graphql';
import { describeInBrowser, launchBrowser, screenshot } from '../support/browser';
import { ok } from '../support/graphql';
import { until, untilSubscribed } from '../support/live';
import { useWorld, type Person } from '../support/world';

// The Login example signs in as the demo patient; here that patient exists with the same login.
const DEMO_PATIENT = { email: 'pat@demo.carethread', password: 'carethread-demo', name: 'Pat Patient' };

const env = useWorld();
let dana: Person;
let pat: Person;
let diabetes: { id: string; name: string };

beforeAll(async () => {
  dana = await env.world.professional('Dr Dana Diaz');
  diabetes = await env.world.team('Diabetes', { autoCc: true, members: [dana, await env.world.professional('Nurse Nico Novak')] });
  const { createUser } = await env.world.as(env.world.admin, `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
    input: { ...DEMO_PATIENT, kind: 'PATIENT' },
  });
  const { login } = await ok(env.server.url, LoginDocument, { email: DEMO_PATIENT.email, password: DEMO_PATIENT.password });
  pat = { id: createUser.id, name: DEMO_PATIENT.name, email: DEMO_PATIENT.email, token: login.token };
  await env.world.share(pat, diabetes);
});

describe('GraphiQL over HTTP', () => {
  const getPage = (accept: string) => fetch(env.server.url, { headers: { accept } });

  it('a JSON client (or curl) on GET /graphql still gets GraphQL, not the page', async () => {
    for (const accept of ['application/json', '*/*']) {
      const res = await fetch(`${env.server.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept } });
      expect(res.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('a browser gets the page, under a policy that lets it load and connect to this server only', async () => {
    const res = await getPage('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|wss?:/);
    expect(await res.text()).toContain('<script type="module" src="/graphiql/graphiql.js">');
  });

  it('the page, its stylesheet and the fonts it names are all served from /graphiql/', async () => {
    const html = await (await getPage('text/html')).text();
    const links = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((link) => !link.startsWith('data:'));
    expect(links).toEqual(['/graphiql/graphiql.css', '/graphiql/graphiql.js']);
    const origin = new URL(env.server.url).origin;
    const css = await (await fetch(`${origin}/graphiql/graphiql.css`)).text();
    const fonts = [...css.matchAll(/url\("?([^")]+)"?\)/g)].map((m) => m[1]).filter((url) => !url.startsWith('data:'));
    expect(fonts.length).toBeGreaterThan(0);
    for (const font of fonts) {
      const res = await fetch(new URL(font, `${origin}/graphiql/graphiql.css`));
      expect([font, res.status]).toEqual([font, 200]);
    }
  });

  it("the page's files go compressed to a browser that takes it; GraphQL answers never are", async () => {
    const origin = new URL(env.server.url).origin;
    const script = await fetch(`${origin}/graphiql/graphiql.js`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(script.headers.get('content-encoding')).toMatch(/^(gzip|br)$/);
    expect((await script.text()).length).toBeGreaterThan(1_000_000);
    const answer = await fetch(env.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip, br' },
      // Far over the 1 KB below which nothing would be compressed anyway.
      body: JSON.stringify({ query: '{ __schema { types { name description } } }' }),
    });
    expect((await answer.text()).length).toBeGreaterThan(4_000);
    expect(answer.headers.get('content-encoding')).toBeNull();
  });

  it('no built file names a CDN', () => {
    const dir = join(WEB_ROOT, 'graphiql');
    for (const file of readdirSync(dir)) {
      expect([file, readFileSync(join(dir, file), 'latin1').match(/esm\.sh|jsdelivr|unpkg|cdnjs|googleapis|gstatic|cloudflare/)?.[0]]).toEqual([file, undefined]);
    }
  });

  it('every example operation is valid against the schema', async () => {
    const schema = await getSchema();
    for (const { query } of EXAMPLES) expect(validate(schema, parse(query)).map((e) => e.message)).toEqual([]);
  });
});

describeInBrowser('GraphiQL in Chromium', () => {
  const HEADERS_EDITOR = 'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .view-lines';
  const RESPONSE = 'section.result-window .view-lines';
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  /** Waits until the monaco editor at `selector` shows `text`; the error names what it shows instead. */
  async function untilShown(page: Page, selector: string, text: string) {
    // Monaco renders spaces as U+00A0; a wrapped line's indentation collapses to one space.
    const shown = async () => ((await page.locator(selector).textContent()) ?? '').replace(/[\s\u00a0]+/g, ' ');
    const deadline = Date.now() + 10_000;
    while (!(await shown()).includes(text)) {
      if (Date.now() > deadline) throw new Error(`${selector} does not show ${text}; it shows: ${await shown()}`);
      await page.waitForTimeout(50);
    }
  }

  /** Replaces the text of the monaco editor at `selector`. */
  async function typeInto(page: Page, selector: string, text: string) {
    await page.locator(selector).click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.insertText(text);
    // Monaco may have added a closing bracket of its own after the cursor.
    await page.keyboard.press('Shift+ControlOrMeta+End');
    await page.keyboard.press('Delete');
  }

  async function run(page: Page) {
    // GraphiQL reads the operation's name 100 ms after the editor's text changes; run before
    // that and it sends the previous operation's name.
    await page.waitForTimeout(300);
    await page.locator('.graphiql-execute-button').click();
  }

  async function runTab(page: Page, title: string) {
    await page.locator(`.graphiql-tab-button[title="${title}"]`).click();
    await run(page);
  }

  it('loads from this server alone, signs in from the Login tab, lists recipients and hears a new message live', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const requested: string[] = [];
    const problems: string[] = [];
    context.on('request', (request) => requested.push(request.url()));
    const page = await context.newPage();
    page.on('websocket', (socket) => requested.push(socket.url()));
    page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
    page.on('pageerror', (error) => problems.push(error.message));
    try {
      await page.goto(env.server.url);
      await page.locator('.graphiql-query-editor .monaco-editor').waitFor();
      await untilShown(page, HEADERS_EDITOR, `"Authorization": "Bearer ${TOKEN_PLACEHOLDER}"`);
      await screenshot(page, 'graphiql-loaded');

      // Before any login the placeholder is left out, so the socket is refused at once.
      await runTab(page, 'ThreadActivity');
      await untilShown(page, RESPONSE, 'The server closed the websocket (4401): no valid token in the Authorization header');

      await runTab(page, 'Login');
      await untilShown(page, RESPONSE, '"token": "');
      await untilShown(page, RESPONSE, DEMO_PATIENT.name);

      await runTab(page, 'Recipients');
      await untilShown(page, RESPONSE, '"__typename": "TeamRecipient"');
      await untilShown(page, RESPONSE, '"name": "Diabetes"');
      await screenshot(page, 'graphiql-recipients');

      // A token pasted into the headers editor is sent as it is, over the Login tab's.
      await page.locator('.graphiql-tab-add').click();
      await typeInto(page, 'section.graphiql-query-editor .monaco-editor', '{ me { name } }');
      await typeInto(page, 'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden)', `{ "Authorization": "Bearer ${dana.token}" }`);
      await run(page);
      await untilShown(page, RESPONSE, '"name": "Dr Dana Diaz"');

      const thread = await env.world.thread(pat, [{ teamId: diabetes.id }], 'My readings were above 12 all week.');
      await runTab(page, 'ThreadActivity');
      await untilSubscribed(env.server, 1);
      await env.world.send(dana, thread, 'Please come in on Monday.');
      await untilShown(page, RESPONSE, '"body": "Please come in on Monday."');
      await screenshot(page, 'graphiql-subscription');
      // Running it again stops it: the server sees the subscription and its socket end.
      await page.locator('.graphiql-execute-button').click();
      await until(() => env.server.live.size === 0 && env.server.app.liveSessions.size === 0);
    } catch (error) {
      await screenshot(page, 'graphiql-failure');
      throw error;
    } finally {
      await context.close();
    }

    const origin = new URL(env.server.url);
    const elsewhere = requested.filter((url) => !url.startsWith('data:') && new URL(url).host !== origin.host);
    expect(elsewhere).toEqual([]);
    // Monaco's three language workers came from this server, not from a fallback on the main thread.
    for (const worker of ['editor', 'json', 'graphql']) expect(requested).toContain(`${origin.origin}/graphiql/${worker}.worker.js`);
    expect(requested).toContain(env.server.wsUrl);
    // A CSP refusal would show here.
    expect(problems).toEqual([]);
  });
});
