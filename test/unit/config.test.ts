import { generateKeyPairSync } from 'node:crypto';
import { hostname } from 'node:os';
import { ASYMMETRIC_ALGORITHMS, ConfigError, isProviderUrl, loadConfig } from '../../src/config';
import { createDataSource } from '../../src/data-source';

// The settings, read once at start (src/config.ts): defaults, typed values, and
// every problem listed at once. test/startup.test.ts sees the real entry point
// stop on a bad setting.

const BASE_ENV = { DATABASE_URL: 'sqlite::memory:', PORT: '0', HOST: '127.0.0.1' };

/** The message of the ConfigError `env` gives, or null when it is accepted. */
function problem(env: Record<string, string>): string | null {
  try {
    loadConfig(env);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
}

describe('configuration is validated before anything starts', () => {
  test.each([
    ['a DATABASE_URL that is not sqlite', { DATABASE_URL: 'mysql://localhost/db' }, /DATABASE_URL: must look like sqlite:<path>/],
    ['a DATABASE_URL without a path', { DATABASE_URL: 'sqlite:' }, /DATABASE_URL: sqlite: needs a file path or :memory:/],
    ['a PORT that is not a number', { PORT: 'abc' }, /PORT: /],
    ['a PORT above 65535', { PORT: '70000' }, /PORT: .*65535/],
    ['a negative PORT', { PORT: '-1' }, /PORT: /],
    ['a PORT that is not whole', { PORT: '4000.5' }, /PORT: /],
    ['a JWT_SECRET shorter than 32 characters', { JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32 characters/],
    ['an ADMIN_EMAIL without ADMIN_PASSWORD', { ADMIN_EMAIL: 'admin@clinic.example' }, /ADMIN_EMAIL and ADMIN_PASSWORD go together/],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'loud' }, /LOG_LEVEL: /],
  ])('%s is a ConfigError that says so', (_what, env, message) => {
    let thrown: unknown;
    try {
      loadConfig({ ...BASE_ENV, ...env });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(/^Invalid configuration:/);
    expect((thrown as Error).message).toMatch(message);
  });

  test('every problem is listed at once, even those that combine settings', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', PORT: 'x', DATABASE_URL: 'mysql://a', ADMIN_PASSWORD: 'long-enough-1' })).toThrow(
      /PORT: [^\n]+\n\s+DATABASE_URL: [^\n]+\n\s+settings: ADMIN_EMAIL and ADMIN_PASSWORD go together\n\s+JWT_SECRET: JWT_SECRET is required when NODE_ENV=production/,
    );
  });

  test('good settings are read as typed values; an empty variable counts as unset', () => {
    const config = loadConfig({ DATABASE_URL: 'sqlite:/var/lib/carethread/db.sqlite', PORT: '8080', JWT_SECRET: 's'.repeat(32), ADMIN_EMAIL: '', NODE_ENV: 'production' });
    expect(config).toMatchObject({ port: 8080, production: true, database: { type: 'sqlite', path: '/var/lib/carethread/db.sqlite' }, admin: null, jwtSecretIsRandom: false });
    const dev = loadConfig({ DATABASE_URL: 'sqlite::memory:', JWT_SECRET: '' });
    expect(dev).toMatchObject({ production: false, port: 4000, database: { path: ':memory:' }, jwtSecretIsRandom: true });
    expect(dev.jwtSecret).toHaveLength(32);
  });

  test('with nothing set: the defaults', () => {
    const config = loadConfig({});
    expect({ ...config, jwtSecret: undefined, instanceId: undefined }).toEqual({
      port: 4000,
      host: '0.0.0.0',
      production: false,
      database: { type: 'sqlite', path: './data/carethread.sqlite', busyTimeoutMs: 5000 },
      jwtSecret: undefined,
      jwtSecretIsRandom: true,
      tokenTtlSeconds: 12 * 3600,
      passwordCost: 15,
      admin: null,
      logLevel: 'info',
      redisUrl: null,
      instanceId: undefined,
      introspection: true,
      trustProxy: false,
      maxSocketsPerUser: 20,
      login: { maxFailuresPerAccount: 5, maxFailuresPerIp: 50, lockoutSeconds: 15 * 60 },
      escalationPollMs: 30_000,
      metricsToken: null,
      notifications: {
        smtpUrl: null,
        mailFrom: 'CareThread <no-reply@carethread.invalid>',
        vapid: null,
        pushServiceHosts: ['fcm.googleapis.com', 'push.services.mozilla.com', 'push.apple.com', 'notify.windows.com'],
        publicUrl: null,
        pollMs: 15_000,
      },
      attachments: { directory: null, maxFileBytes: 10 * 1024 * 1024, dailyBytesPerUser: 100 * 1024 * 1024 },
      oidc: null,
      outboxRelayMs: 10_000,
      outboxKeepMs: 600_000,
      auditSealMs: 200,
      auditSigningKey: null,
      auditSigningKeyFile: 'data/audit-signing-key.pem',
      auditRetiredKeys: [],
    });
    expect(config.instanceId).toBe(`${hostname()}-${process.pid}`);
    // A random key for each process: tokens do not survive a restart.
    expect(Buffer.from(config.jwtSecret).equals(Buffer.from(loadConfig({}).jwtSecret))).toBe(false);
  });

  test('AUDIT_RETIRED_KEYS: Ed25519 public keys, PEM blocks one after another or DER in base64 separated by commas; anything else is refused', () => {
    const [a, b] = [generateKeyPairSync('ed25519'), generateKeyPairSync('ed25519')];
    const pem = (k: typeof a) => k.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const der = (k: typeof a) => k.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const ids = (value: string) => loadConfig({ AUDIT_RETIRED_KEYS: value }).auditRetiredKeys.map((k) => k.export({ type: 'spki', format: 'der' }).toString('base64'));
    expect(loadConfig({}).auditRetiredKeys).toEqual([]);
    expect(ids(`${pem(a)}\n${pem(b)}`)).toEqual([der(a), der(b)]);
    expect(ids(`${der(a)}, ${der(b)}`)).toEqual([der(a), der(b)]);
    expect(problem({ AUDIT_RETIRED_KEYS: `${der(a)},not-a-key` })).toMatch(/AUDIT_RETIRED_KEYS.*key 2 must be a public key/);
    expect(problem({ AUDIT_RETIRED_KEYS: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string })).toMatch(/key 1 must be an Ed25519 public key/);
  });

  test('PostgreSQL: the URL as given, with DATABASE_SCHEMA when set (a lower-case SQL identifier), and DATABASE_POOL_SIZE (4 to 500, default 10)', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db/care', DATABASE_SCHEMA: 'clinic_1' }).database).toEqual({ type: 'postgres', url: 'postgres://u@db/care', schema: 'clinic_1', poolSize: 10 });
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@db/care', DATABASE_POOL_SIZE: '40' }).database).toEqual({ type: 'postgres', url: 'postgresql://u@db/care', schema: undefined, poolSize: 40 });
    for (const size of ['3', '501', 'ten']) expect(problem({ DATABASE_URL: 'postgres://u@db/care', DATABASE_POOL_SIZE: size })).toMatch(/DATABASE_POOL_SIZE/);
    // The pool the data source opens.
    const { options } = createDataSource(loadConfig({ DATABASE_URL: 'postgres://u@db/care', DATABASE_POOL_SIZE: '40' }).database);
    expect(options).toMatchObject({ type: 'postgres', extra: { max: 40 } });
    expect(problem({ DATABASE_URL: 'postgres://u@db/care', DATABASE_SCHEMA: 'Clinic; DROP' })).toMatch(/DATABASE_SCHEMA must be a lower-case SQL identifier/);
  });

  test('TRUST_PROXY: true, false, a hop count, or addresses as Express takes them; INTROSPECTION and ADMIN_* as typed', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(loadConfig({ INTROSPECTION: 'false' }).introspection).toBe(false);
    expect(loadConfig({ ADMIN_EMAIL: 'admin@clinic.example', ADMIN_PASSWORD: 'long-enough-1' }).admin).toEqual({ email: 'admin@clinic.example', password: 'long-enough-1' });
    expect(problem({ INTROSPECTION: 'maybe' })).toMatch(/INTROSPECTION: /);
    expect(problem({ REDIS_URL: 'localhost:6379' })).toMatch(/REDIS_URL must look like redis:\/\/host:port/);
  });

  test('a METRICS_TOKEN shorter than 32 characters stops the server at start', () => {
    expect(() => loadConfig({ DATABASE_URL: 'sqlite::memory:', METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'sqlite::memory:', METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 32 characters/);
  });
});

describe('notifications', () => {
  const vapid = { VAPID_PUBLIC_KEY: `B${'A'.repeat(86)}`, VAPID_PRIVATE_KEY: 'A'.repeat(43), VAPID_SUBJECT: 'mailto:it@clinic.example' };

  test('SMTP_URL: smtp://, smtps:// or log; PUBLIC_URL: an http(s) origin; VAPID: all three or none', () => {
    const read = loadConfig({ SMTP_URL: 'smtps://u:p@mail.example:465', PUBLIC_URL: 'https://carethread.clinic.example/ignored/path', ...vapid }).notifications;
    expect(read).toMatchObject({ smtpUrl: 'smtps://u:p@mail.example:465', publicUrl: 'https://carethread.clinic.example', vapid: { publicKey: vapid.VAPID_PUBLIC_KEY, privateKey: vapid.VAPID_PRIVATE_KEY, subject: vapid.VAPID_SUBJECT } });
    expect(loadConfig({ SMTP_URL: 'log' }).notifications.smtpUrl).toBe('log');
    expect(() => loadConfig({ SMTP_URL: 'mail.example:25' })).toThrow(/SMTP_URL must look like smtp:\/\//);
    expect(() => loadConfig({ PUBLIC_URL: 'carethread.example' })).toThrow(/PUBLIC_URL must be an http\(s\):\/\/ URL/);
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: vapid.VAPID_PUBLIC_KEY })).toThrow(/VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT go together/);
    expect(() => loadConfig({ ...vapid, VAPID_PRIVATE_KEY: 'short' })).toThrow(/VAPID_PRIVATE_KEY must be a P-256 private key/);
    expect(() => loadConfig({ ...vapid, VAPID_SUBJECT: 'it@clinic.example' })).toThrow(/VAPID_SUBJECT must be a mailto: address or an https:\/\/ URL/);
    expect(loadConfig({ PUSH_SERVICE_HOSTS: ' Push.Example , other.example' }).notifications.pushServiceHosts).toEqual(['push.example', 'other.example']);
    expect(() => loadConfig({ PUSH_SERVICE_HOSTS: 'https://push.example/' })).toThrow(/PUSH_SERVICE_HOSTS lists host names/);
  });
});

describe('the audit signing key', () => {
  const ed25519 = generateKeyPairSync('ed25519').privateKey;
  const pem = ed25519.export({ type: 'pkcs8', format: 'pem' }) as string;
  const der = (ed25519.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString('base64');

  test('AUDIT_SIGNING_KEY: an Ed25519 private key as PKCS8 PEM or base64 DER; anything else stops the start', () => {
    for (const text of [pem, der]) expect(loadConfig({ ...BASE_ENV, AUDIT_SIGNING_KEY: text }).auditSigningKey?.equals(ed25519)).toBe(true);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(problem({ ...BASE_ENV, AUDIT_SIGNING_KEY: 'not a key' })).toMatch(/AUDIT_SIGNING_KEY: must be an Ed25519 private key, PKCS8 PEM or its DER in base64/);
    expect(problem({ ...BASE_ENV, AUDIT_SIGNING_KEY: rsa })).toMatch(/AUDIT_SIGNING_KEY: must be an Ed25519 key \(got rsa\)/);
    expect(problem({ ...BASE_ENV, AUDIT_SIGNING_KEY: pem.replace('PRIVATE', 'PUBLIC') })).toMatch(/AUDIT_SIGNING_KEY: must be an Ed25519 private key/);
  });

  test('the development key file: AUDIT_SIGNING_KEY_FILE, else next to the SQLite file, ./data on PostgreSQL, none in memory', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/srv/clinic/carethread.sqlite' }).auditSigningKeyFile).toBe('/srv/clinic/audit-signing-key.pem');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/clinic' }).auditSigningKeyFile).toBe('data/audit-signing-key.pem');
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).auditSigningKeyFile).toBeNull();
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:', AUDIT_SIGNING_KEY_FILE: '/keys/audit.pem' }).auditSigningKeyFile).toBe('/keys/audit.pem');
  });
});

describe('OIDC settings', () => {
  const base = { DATABASE_URL: 'sqlite::memory:' };
  const oidcProblem = (env: Record<string, string>) => problem({ ...base, ...env });

  test('OIDC_ISSUER and OIDC_AUDIENCE go together; without them there is no OIDC', () => {
    expect(loadConfig(base).oidc).toBeNull();
    expect(oidcProblem({ OIDC_ISSUER: 'https://idp.example' })).toMatch(/OIDC_ISSUER and OIDC_AUDIENCE go together/);
    expect(oidcProblem({ OIDC_AUDIENCE: 'x' })).toMatch(/OIDC_ISSUER and OIDC_AUDIENCE go together/);
    expect(oidcProblem({ OIDC_JWKS_URI: 'https://idp.example/keys' })).toMatch(/OIDC_JWKS_URI needs OIDC_ISSUER/);
    expect(loadConfig({ ...base, OIDC_ISSUER: 'https://idp.example/realms/h', OIDC_AUDIENCE: 'carethread' }).oidc).toEqual({
      issuer: 'https://idp.example/realms/h',
      audience: 'carethread',
      jwksUri: null,
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
      jwksCooldownSeconds: 30,
    });
  });

  test('the provider is reached over https, or http on localhost only, even outside production', () => {
    const with_ = (issuer: string, extra: Record<string, string> = {}) => oidcProblem({ OIDC_ISSUER: issuer, OIDC_AUDIENCE: 'a', NODE_ENV: 'development', ...extra });
    expect(with_('http://idp.example')).toMatch(/OIDC_ISSUER must be an https:\/\/ URL/);
    expect(with_('not a url')).toMatch(/OIDC_ISSUER must be an https:\/\/ URL/);
    expect(with_('https://idp.example', { OIDC_JWKS_URI: 'http://10.0.0.1/keys' })).toMatch(/OIDC_JWKS_URI must be an https:\/\/ URL/);
    for (const ok of ['https://idp.example', 'http://localhost:8080', 'http://127.0.0.1:9000/realm', 'http://[::1]:9000']) expect(with_(ok)).toBeNull();
    expect(isProviderUrl('http://localhost.evil.example')).toBe(false);
  });

  test('OIDC_ALGORITHMS lists asymmetric algorithms only: HS256 and none are refused at start', () => {
    const oidc = { OIDC_ISSUER: 'https://idp.example', OIDC_AUDIENCE: 'a' };
    expect(loadConfig({ ...base, ...oidc, OIDC_ALGORITHMS: 'RS256, ES256' }).oidc?.algorithms).toEqual(['RS256', 'ES256']);
    for (const list of ['HS256', 'RS256,HS512', 'none', ',']) expect(oidcProblem({ ...oidc, OIDC_ALGORITHMS: list })).toMatch(/OIDC_ALGORITHMS/);
    expect(ASYMMETRIC_ALGORITHMS.some((a) => a.startsWith('HS'))).toBe(false);
  });
});
