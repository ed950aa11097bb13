import { randomBytes } from 'node:crypto';
import type { GraphQLFormattedError } from 'graphql';
import { expectCleanRefusal, postJson, type RawResponse } from './support/http';
import { scrape, total } from './support/metrics';
import { TEST_REDIS_URL } from './support/redis';
import { ADMIN, startTestServer, type TestServer } from './support/server';
import { PASSWORD, World } from './support/world';

const LOGIN = 'mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token } }';

/** A login over real HTTP, optionally as if forwarded by a proxy for `forwardedFor`. */
function login(server: TestServer, email: string, password: string, forwardedFor?: string): Promise<RawResponse> {
  return postJson(server.url, JSON.stringify({ query: LOGIN, variables: { email, password } }), forwardedFor ? { 'x-forwarded-for': forwardedFor } : {});
}

const codeOf = (res: RawResponse): string => String(res.json?.errors?.[0]?.extensions?.code ?? (res.json?.data ? 'OK' : 'NO DATA'));

async function failTimes(server: TestServer, times: number, email: string, forwardedFor?: string): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < times; i++) codes.push(codeOf(await login(server, email, `wrong-${i}`, forwardedFor)));
  return codes;
}

function expectLockedOut(res: RawResponse, scope: RegExp, seconds: number): GraphQLFormattedError {
  expect(res.status).toBe(429);
  const error = expectCleanRefusal(res, 'TOO_MANY_REQUESTS');
  expect(error.message).toMatch(scope);
  expect(error.extensions?.retryAfterSeconds).toBeGreaterThan(0);
  expect(error.extensions?.retryAfterSeconds).toBeLessThanOrEqual(seconds);
  return error;
}

/** Passwords the server has checked so far (its /metrics). */
const passwordChecks = async (server: TestServer): Promise<number> =>
  total(await scrape(server.url), 'carethread_login_password_checks_total');

/**
 * 100 wrong guesses sent at once, each for `target(i)`; once the first is refused
 * for too many failures (or all are answered), the right password for `right`.
 */
async function guessesAtOnce(
  server: TestServer,
  target: (i: number) => string,
  right: { email: string; password: string },
  forwardedFor?: string,
): Promise<{ checked: number; codes: string[]; rightOne: RawResponse }> {
  const before = await passwordChecks(server);
  const guesses = Array.from({ length: 100 }, (_, i) => login(server, target(i), `wrong-${i}`, forwardedFor));
  await new Promise<void>((resolve) => {
    for (const guess of guesses) void guess.then((res) => codeOf(res) === 'TOO_MANY_REQUESTS' && resolve());
    void Promise.all(guesses).then(() => resolve());
  });
  const rightOne = await login(server, right.email, right.password, forwardedFor);
  const codes = (await Promise.all(guesses)).map(codeOf);
  return { checked: (await passwordChecks(server)) - before, codes, rightOne };
}

/** Keys live in the shared Redis across runs: every run uses its own addresses. */
/** A client address no other test of this run used (a shared one would carry another test's lockout). */
let lastIp = randomBytes(1)[0];
const freshIp = () => `198.51.100.${1 + (++lastIp % 254)}`;
const email = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.org`;

describe('per account', () => {
  let server: TestServer;
  let world: World;
  beforeAll(async () => {
    server = await startTestServer({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '1000', LOGIN_LOCKOUT_SECONDS: '60' });
    world = await World.create(server);
  });
  afterAll(() => server.close());

  test('after 3 failures the account is locked: even the right password is refused with TOO_MANY_REQUESTS and a wait', async () => {
    const nurse = await world.professional('Locked Nurse');
    expect(await failTimes(server, 2, nurse.email)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    // The third failure is the last one allowed: it already says so.
    expectLockedOut(await login(server, nurse.email, 'wrong-again'), /for this account; try again in 1 minute/, 60);
    const locked = await login(server, nurse.email, PASSWORD);
    expectLockedOut(locked, /for this account/, 60);
    expect(Number(locked.headers.get('retry-after'))).toBe(locked.json?.errors?.[0]?.extensions?.retryAfterSeconds);
  });

  test('guesses sent at once are counted before any is checked: 3 checked out of 100, and the right password is refused while locked', async () => {
    const nurse = await world.professional('Rushed Nurse');
    const { checked, codes, rightOne } = await guessesAtOnce(server, () => nurse.email, { email: nurse.email, password: PASSWORD });
    expect(checked).toBeLessThanOrEqual(3);
    expect(codes.filter((code) => code === 'UNAUTHENTICATED').length).toBeLessThanOrEqual(3);
    expect(codes.filter((code) => code === 'TOO_MANY_REQUESTS').length).toBeGreaterThanOrEqual(97);
    expectLockedOut(rightOne, /for this account/, 60);
  });

  test('another account from the same address is not affected', async () => {
    const first = await world.professional('First Account');
    const second = await world.professional('Second Account');
    await failTimes(server, 3, first.email);
    expect(codeOf(await login(server, second.email, PASSWORD))).toBe('OK');
  });

  test('a success clears the count', async () => {
    const doctor = await world.professional('Forgetful Doctor');
    expect(await failTimes(server, 2, doctor.email)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(codeOf(await login(server, doctor.email, PASSWORD))).toBe('OK');
    expect(await failTimes(server, 2, doctor.email)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(codeOf(await login(server, doctor.email, PASSWORD))).toBe('OK');
  });

  test('an unknown address locks the same way, so a lockout tells nothing about which accounts exist', async () => {
    const unknown = email('nobody');
    expect(await failTimes(server, 3, unknown)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'TOO_MANY_REQUESTS']);
  });

  test('the address is matched as login matches it: case and spaces do not give more tries', async () => {
    const nurse = await world.professional('Case Nurse');
    await login(server, nurse.email.toUpperCase(), 'wrong-1');
    await login(server, ` ${nurse.email} `, 'wrong-2');
    expectLockedOut(await login(server, nurse.email, 'wrong-3'), /for this account/, 60);
  });
});

test('the lockout ends after LOGIN_LOCKOUT_SECONDS', async () => {
  const server = await startTestServer({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '2', LOGIN_LOCKOUT_SECONDS: '1' });
  try {
    const { email: admin, password } = ADMIN;
    expect(await failTimes(server, 2, admin)).toEqual(['UNAUTHENTICATED', 'TOO_MANY_REQUESTS']);
    expect(codeOf(await login(server, admin, password))).toBe('TOO_MANY_REQUESTS');
    await new Promise((r) => setTimeout(r, 1_100));
    expect(codeOf(await login(server, admin, password))).toBe('OK');
  } finally {
    await server.close();
  }
});

describe('per client address', () => {
  test('after LOGIN_MAX_FAILURES_PER_IP failures over any accounts, accounts new to that address are refused from it; other addresses are not', async () => {
    const server = await startTestServer({ TRUST_PROXY: 'loopback', LOGIN_MAX_FAILURES_PER_IP: '4', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' });
    try {
      const attacker = freshIp();
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push(codeOf(await login(server, email(`target${i}`), 'guess', attacker)));
      expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'TOO_MANY_REQUESTS']);
      expectLockedOut(await login(server, ADMIN.email, ADMIN.password, attacker), /from this address/, 900);
      expect(codeOf(await login(server, ADMIN.email, ADMIN.password, freshIp()))).toBe('OK');
    } finally {
      await server.close();
    }
  });

  test('guesses over many accounts sent at once from one address are counted before any is checked', async () => {
    const server = await startTestServer({ TRUST_PROXY: 'loopback', LOGIN_MAX_FAILURES_PER_IP: '5', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' });
    try {
      const { checked, rightOne } = await guessesAtOnce(server, (i) => email(`spray${i}`), ADMIN, freshIp());
      expect(checked).toBeLessThanOrEqual(5);
      expectLockedOut(rightOne, /from this address/, 900);
    } finally {
      await server.close();
    }
  });

  test('without TRUST_PROXY a forged X-Forwarded-For gives no fresh address', async () => {
    const server = await startTestServer({ LOGIN_MAX_FAILURES_PER_IP: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' });
    try {
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push(codeOf(await login(server, email(`spoof${i}`), 'guess', freshIp())));
      expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'TOO_MANY_REQUESTS']);
    } finally {
      await server.close();
    }
  });
});

describe("a clinic's shared address: guessing from it slows down strangers to it, never its staff", () => {
  let server: TestServer;
  let world: World;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'loopback', LOGIN_MAX_FAILURES_PER_IP: '5', LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_LOCKOUT_SECONDS: '60' });
    world = await World.create(server);
  });
  afterAll(() => server.close());

  test('while guesses over many accounts from the address are stopped, whoever signed in from it before still gets in at once; a newcomer waits', async () => {
    const clinic = freshIp();
    const nurse = await world.professional('Clinic Nurse');
    const newcomer = await world.professional('Clinic Newcomer');
    expect(codeOf(await login(server, nurse.email, PASSWORD, clinic))).toBe('OK');

    const spray = await guessesAtOnce(server, (i) => email(`spray${i}`), { email: newcomer.email, password: PASSWORD }, clinic);
    expect(spray.checked).toBeLessThanOrEqual(5);
    expectLockedOut(spray.rightOne, /from this address/, 60);

    const started = Date.now();
    expect(codeOf(await login(server, nurse.email, PASSWORD, clinic))).toBe('OK');
    expect(Date.now() - started).toBeLessThan(2_000);
    expectLockedOut(await login(server, newcomer.email, PASSWORD, clinic), /from this address/, 60);
    expect(codeOf(await login(server, newcomer.email, PASSWORD, freshIp()))).toBe('OK');
  });

  test("guesses at a known account from the address are stopped by that account's own limit", async () => {
    const clinic = freshIp();
    const doctor = await world.professional('Clinic Doctor');
    expect(codeOf(await login(server, doctor.email, PASSWORD, clinic))).toBe('OK');
    const { checked, rightOne } = await guessesAtOnce(server, () => doctor.email, { email: doctor.email, password: PASSWORD }, clinic);
    expect(checked).toBeLessThanOrEqual(3);
    expectLockedOut(rightOne, /for this account/, 60);
  });
});

describe('with Redis, every instance shares the counts', () => {
  test('failures on one instance lock the account on the other', async () => {
    const settings = { REDIS_URL: TEST_REDIS_URL, LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_LOCKOUT_SECONDS: '5' };
    const a = await startTestServer({ ...settings, INSTANCE_ID: 'login-a' });
    const b = await startTestServer({ ...settings, INSTANCE_ID: 'login-b', DATABASE_URL: 'sqlite::memory:' });
    try {
      const target = email('shared');
      expect(await failTimes(a, 2, target)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
      expect(await failTimes(b, 1, target)).toEqual(['TOO_MANY_REQUESTS']);
      expect(await failTimes(a, 1, target)).toEqual(['TOO_MANY_REQUESTS']);
      console.log('login limits: 2 failures on instance A and 1 on B locked the account on both (Redis-shared counts)');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('an account known at an address on one instance is known there on the other', async () => {
    const settings = { REDIS_URL: TEST_REDIS_URL, TRUST_PROXY: 'loopback', LOGIN_MAX_FAILURES_PER_IP: '2', DATABASE_URL: 'sqlite::memory:' };
    const a = await startTestServer({ ...settings, INSTANCE_ID: 'login-known-a' });
    const b = await startTestServer({ ...settings, INSTANCE_ID: 'login-known-b' });
    try {
      const clinic = freshIp();
      expect(codeOf(await login(a, ADMIN.email, ADMIN.password, clinic))).toBe('OK');
      expect(await failTimes(b, 2, email('stranger'), clinic)).toEqual(['UNAUTHENTICATED', 'TOO_MANY_REQUESTS']);
      expect(codeOf(await login(b, ADMIN.email, ADMIN.password, clinic))).toBe('OK');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

test('while Redis is unreachable, each instance still counts on its own', async () => {
  const server = await startTestServer({ REDIS_URL: 'redis://127.0.0.1:1', LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' });
  try {
    expect(await failTimes(server, 4, email('offline'))).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS']);
  } finally {
    await server.close();
  }
});
