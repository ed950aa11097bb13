import { randomBytes, type KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { parseRetiredKeys, parseSigningKey } from './modules/audit/audit-signing-key';

/** Where the data lives: the embedded SQLite file (default) or PostgreSQL. */
export type DatabaseConfig =
  | {
      type: 'sqlite';
      /** A file path, or ':memory:'. */
      path: string;
      /** How long a statement waits for a lock held by another process (a backup, the sqlite3 shell) before DATABASE_BUSY. */
      busyTimeoutMs: number;
    }
  | {
      type: 'postgres';
      url: string;
      /** Tables live in this schema (created if missing); the server's default when unset. */
      schema?: string;
      /** Connections this instance keeps open at most (DATABASE_POOL_SIZE). */
      poolSize: number;
    };

export interface Config {
  port: number;
  host: string;
  production: boolean;
  database: DatabaseConfig;
  /** HS256 key for access tokens. */
  jwtSecret: Uint8Array;
  /** True when JWT_SECRET was missing and a random key was made for this process. */
  jwtSecretIsRandom: boolean;
  tokenTtlSeconds: number;
  /** log2 of the scrypt cost for new password hashes. */
  passwordCost: number;
  admin: { email: string; password: string } | null;
  logLevel: string;
  /** Redis for live events between instances; null keeps them in this process. */
  redisUrl: string | null;
  /** Names this process in logs and events, e.g. to ignore its own echoes. */
  instanceId: string;
  /** Whether the schema answers introspection (GraphiQL needs it). Default on. */
  introspection: boolean;
  /** Express's `trust proxy`: which proxies' X-Forwarded-For to believe for the client IP. Default false. */
  trustProxy: boolean | number | string;
  /** Open graphql-ws connections one user may hold on one instance; more are closed with 4429. */
  maxSocketsPerUser: number;
  login: LoginLimits;
  /** How often each instance looks for due escalation alerts (team waiting limits). Default 30 s. */
  escalationPollMs: number;
  /** The outbox relay: how often each instance sends events left unpublished for longer than this (a dead instance's). Default 10 s. */
  outboxRelayMs: number;
  /** How long published events are kept, so an instance back from a Redis outage delivers what it missed. Default 10 minutes. */
  outboxKeepMs: number;
  /** How often the audit sealer looks for unsealed events. Default 200 ms. */
  auditSealMs: number;
  /** GET /metrics needs `Authorization: Bearer <metricsToken>`; null (the default) leaves it open. */
  metricsToken: string | null;
  /** Sign-in through the hospital's OpenID Connect identity provider; null (the default) when OIDC_ISSUER is unset. */
  oidc: OidcConfig | null;
  /** AUDIT_SIGNING_KEY: the Ed25519 key that signs audit checkpoints; null when unset (a development key is used). */
  auditSigningKey: KeyObject | null;
  /**
   * Where the development key is kept when AUDIT_SIGNING_KEY is unset:
   * AUDIT_SIGNING_KEY_FILE, by default next to the SQLite file, or
   * ./data/audit-signing-key.pem on PostgreSQL; null for an in-memory database.
   */
  auditSigningKeyFile: string | null;
  /** AUDIT_RETIRED_KEYS: the public halves of earlier signing keys, whose checkpoints still verify. */
  auditRetiredKeys: KeyObject[];
  notifications: NotificationConfig;
  attachments: AttachmentConfig;
}

/** Files on messages (src/modules/attachments). */
export interface AttachmentConfig {
  /** ATTACHMENTS_DIR: keep the files' bytes in this directory (shared by every instance) rather than in the database (the default, null). */
  directory: string | null;
  /** ATTACHMENT_MAX_BYTES: the largest file accepted, as uploaded. Default 10 MiB. */
  maxFileBytes: number;
  /** ATTACHMENT_DAILY_BYTES: what one account may upload in 24 hours, in bytes. Default 100 MiB. */
  dailyBytesPerUser: number;
}

/** Telling people that a secure message waits (src/modules/notifications). With neither channel, nothing is scheduled. */
export interface NotificationConfig {
  /** SMTP_URL: an smtp:// or smtps:// URL, or `log` (each e-mail written to the log instead: development, the demo); null: no e-mail. */
  smtpUrl: string | null;
  /** MAIL_FROM: the From of every e-mail. */
  mailFrom: string;
  /** VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY (base64url) and VAPID_SUBJECT (mailto: or https:); null: no Web Push. */
  vapid: { publicKey: string; privateKey: string; subject: string } | null;
  /** PUSH_SERVICE_HOSTS: the hosts (and their subdomains) a push subscription's endpoint may name: the browsers' push services. */
  pushServiceHosts: string[];
  /** PUBLIC_URL: the origin the links in notifications point to; null: the server's own address. */
  publicUrl: string | null;
  /** NOTIFY_POLL_MS: how often each instance looks for due notifications. Default 15 s. */
  pollMs: number;
}

/** The asymmetric JWS algorithms an identity provider's tokens may use; HS* and `none` never. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** Bearer tokens whose `iss` is `issuer` are checked against its keys (src/modules/auth/oidc.ts). */
export interface OidcConfig {
  /** OIDC_ISSUER: the `iss` its tokens carry, compared exactly. */
  issuer: string;
  /** OIDC_AUDIENCE: the `aud` a token must hold (the client id for ID tokens). Required with OIDC_ISSUER. */
  audience: string;
  /**
   * OIDC_JWKS_URI: where its signing keys are. Default null: read `jwks_uri` from
   * `<issuer>/.well-known/openid-configuration` on the first token, not at start
   * (the server starts while the provider is down); a failed read is tried again on the next token.
   */
  jwksUri: string | null;
  /** OIDC_ALGORITHMS: comma-separated, from ASYMMETRIC_ALGORITHMS; default all of them. */
  algorithms: string[];
  /**
   * OIDC_JWKS_COOLDOWN_SECONDS: a token signed by a key not in the keys read last fetches them
   * again (the provider rotated its keys), at most once per this long. Default 30.
   */
  jwksCooldownSeconds: number;
}

/** Failed sign-ins allowed within `lockoutSeconds` before sign-in is refused for the rest of it. */
export interface LoginLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  lockoutSeconds: number;
}

export class ConfigError extends Error {}

const MIB = 1024 * 1024;

const DEFAULT_DATABASE_URL = 'sqlite:./data/carethread.sqlite';

const schema = z
  .object({
    NODE_ENV: z.string().default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HOST: z.string().default('0.0.0.0'),
    DATABASE_URL: z
      .string()
      .default(DEFAULT_DATABASE_URL)
      .superRefine((url, ctx) => {
        const problem = databaseUrlProblem(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
    TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(12 * 3600),
    PASSWORD_HASH_COST: z.coerce.number().int().min(10).max(20).default(15),
    ADMIN_EMAIL: z.email().optional(),
    ADMIN_PASSWORD: z.string().min(8, 'ADMIN_PASSWORD must be at least 8 characters').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'DATABASE_SCHEMA must be a lower-case SQL identifier')
      .optional(),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'REDIS_URL must look like redis://host:port')
      .optional(),
    INSTANCE_ID: z.string().max(100).default(`${hostname()}-${process.pid}`),
    INTROSPECTION: z.stringbool().default(true),
    TRUST_PROXY: z.string().default('false'),
    MAX_SOCKETS_PER_USER: z.coerce.number().int().min(1).max(1000).default(20),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
    LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(50),
    LOGIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(24 * 3600).default(15 * 60),
    SQLITE_BUSY_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(4).max(500).default(10),
    ESCALATION_POLL_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
    OUTBOX_RELAY_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    OUTBOX_KEEP_MS: z.coerce.number().int().min(60_000).max(7 * 24 * 3_600_000).default(600_000),
    AUDIT_SEAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(200),
    METRICS_TOKEN: z.string().min(32, 'METRICS_TOKEN must be at least 32 characters').optional(),
    OIDC_ISSUER: providerUrl('OIDC_ISSUER').optional(),
    OIDC_AUDIENCE: z.string().max(500).optional(),
    OIDC_JWKS_URI: providerUrl('OIDC_JWKS_URI').optional(),
    OIDC_ALGORITHMS: z
      .string()
      .transform((list) => list.split(',').map((a) => a.trim()).filter(Boolean))
      .pipe(z.array(z.enum(ASYMMETRIC_ALGORITHMS, `OIDC_ALGORITHMS may list only ${ASYMMETRIC_ALGORITHMS.join(', ')}`)).min(1))
      .default([...ASYMMETRIC_ALGORITHMS]),
    OIDC_JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    AUDIT_SIGNING_KEY: parsedBy(parseSigningKey).optional(),
    AUDIT_SIGNING_KEY_FILE: z.string().optional(),
    AUDIT_RETIRED_KEYS: parsedBy(parseRetiredKeys).default([]),
    SMTP_URL: z
      .string()
      .refine((url) => url === 'log' || (/^smtps?:\/\//.test(url) && URL.canParse(url)), 'SMTP_URL must look like smtp://user:password@host:587, smtps://host:465, or be log')
      .optional(),
    MAIL_FROM: z.string().max(300).default('CareThread <no-reply@carethread.invalid>'),
    VAPID_PUBLIC_KEY: z.string().regex(/^[A-Za-z0-9_-]{87}$/, 'VAPID_PUBLIC_KEY must be a P-256 public key, base64url (87 characters)').optional(),
    VAPID_PRIVATE_KEY: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'VAPID_PRIVATE_KEY must be a P-256 private key, base64url (43 characters)').optional(),
    VAPID_SUBJECT: z.string().regex(/^(mailto:|https:\/\/)\S+$/, 'VAPID_SUBJECT must be a mailto: address or an https:// URL').optional(),
    PUSH_SERVICE_HOSTS: z
      .string()
      .transform((list) => list.split(',').map((host) => host.trim().toLowerCase()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^[a-z0-9.-]+$/, 'PUSH_SERVICE_HOSTS lists host names, comma-separated')).min(1))
      .default(['fcm.googleapis.com', 'push.services.mozilla.com', 'push.apple.com', 'notify.windows.com']),
    PUBLIC_URL: z.string().refine((url) => /^https?:\/\//.test(url) && URL.canParse(url), 'PUBLIC_URL must be an http(s):// URL').optional(),
    NOTIFY_POLL_MS: z.coerce.number().int().min(10).max(3_600_000).default(15_000),
    ATTACHMENTS_DIR: z.string().optional(),
    ATTACHMENT_MAX_BYTES: z.coerce.number().int().min(1024).max(100 * MIB).default(10 * MIB),
    ATTACHMENT_DAILY_BYTES: z.coerce.number().int().min(1024).default(100 * MIB),
  })
  // `when`: zod skips object-level checks once a field failed; these must be listed too.
  .refine((env) => Boolean(env.ADMIN_EMAIL) === Boolean(env.ADMIN_PASSWORD), {
    message: 'ADMIN_EMAIL and ADMIN_PASSWORD go together',
    when: () => true,
  })
  .refine((env) => Boolean(env.OIDC_ISSUER) === Boolean(env.OIDC_AUDIENCE), {
    message: 'OIDC_ISSUER and OIDC_AUDIENCE go together',
    when: () => true,
  })
  .refine((env) => !env.OIDC_JWKS_URI || Boolean(env.OIDC_ISSUER), {
    path: ['OIDC_JWKS_URI'],
    message: 'OIDC_JWKS_URI needs OIDC_ISSUER',
    when: () => true,
  })
  .refine((env) => new Set([env.VAPID_PUBLIC_KEY, env.VAPID_PRIVATE_KEY, env.VAPID_SUBJECT].map(Boolean)).size === 1, {
    message: 'VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT go together',
    when: () => true,
  })
  .refine((env) => env.NODE_ENV !== 'production' || Boolean(env.JWT_SECRET), {
    path: ['JWT_SECRET'],
    message: 'JWT_SECRET is required when NODE_ENV=production (at least 32 characters)',
    when: () => true,
  });

/** Every environment variable the server reads (.env.example and docs/settings.md list them all; a test checks). */
export const SETTING_NAMES: readonly string[] = Object.keys(schema.shape);

/**
 * Reads and validates the settings once, at start.
 * Throws ConfigError with every problem listed; nothing starts on a bad setting.
 * With NODE_ENV=production a missing JWT_SECRET is an error; otherwise a random
 * key is used and tokens do not survive a restart.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(stripEmpty(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  return {
    port: e.PORT,
    host: e.HOST,
    production,
    database: parseDatabaseUrl(e.DATABASE_URL, { schema: e.DATABASE_SCHEMA, busyTimeoutMs: e.SQLITE_BUSY_TIMEOUT_MS, poolSize: e.DATABASE_POOL_SIZE }),
    jwtSecret: e.JWT_SECRET ? new TextEncoder().encode(e.JWT_SECRET) : randomBytes(32),
    jwtSecretIsRandom: !e.JWT_SECRET,
    tokenTtlSeconds: e.TOKEN_TTL_SECONDS,
    passwordCost: e.PASSWORD_HASH_COST,
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : null,
    logLevel: e.LOG_LEVEL,
    redisUrl: e.REDIS_URL ?? null,
    instanceId: e.INSTANCE_ID,
    introspection: e.INTROSPECTION,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
    login: {
      maxFailuresPerAccount: e.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerIp: e.LOGIN_MAX_FAILURES_PER_IP,
      lockoutSeconds: e.LOGIN_LOCKOUT_SECONDS,
    },
    escalationPollMs: e.ESCALATION_POLL_MS,
    outboxRelayMs: e.OUTBOX_RELAY_MS,
    outboxKeepMs: e.OUTBOX_KEEP_MS,
    auditSealMs: e.AUDIT_SEAL_MS,
    metricsToken: e.METRICS_TOKEN ?? null,
    oidc:
      e.OIDC_ISSUER && e.OIDC_AUDIENCE
        ? {
            issuer: e.OIDC_ISSUER,
            audience: e.OIDC_AUDIENCE,
            jwksUri: e.OIDC_JWKS_URI ?? null,
            algorithms: e.OIDC_ALGORITHMS,
            jwksCooldownSeconds: e.OIDC_JWKS_COOLDOWN_SECONDS,
          }
        : null,
    auditSigningKey: e.AUDIT_SIGNING_KEY ?? null,
    auditSigningKeyFile: e.AUDIT_SIGNING_KEY_FILE ?? defaultKeyFile(e.DATABASE_URL),
    auditRetiredKeys: e.AUDIT_RETIRED_KEYS,
    notifications: {
      smtpUrl: e.SMTP_URL ?? null,
      mailFrom: e.MAIL_FROM,
      vapid: e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY && e.VAPID_SUBJECT ? { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY, subject: e.VAPID_SUBJECT } : null,
      pushServiceHosts: e.PUSH_SERVICE_HOSTS,
      publicUrl: e.PUBLIC_URL ? new URL(e.PUBLIC_URL).origin : null,
      pollMs: e.NOTIFY_POLL_MS,
    },
    attachments: { directory: e.ATTACHMENTS_DIR ?? null, maxFileBytes: e.ATTACHMENT_MAX_BYTES, dailyBytesPerUser: e.ATTACHMENT_DAILY_BYTES },
  };
}

const DEV_KEY_FILE = 'audit-signing-key.pem';

/** Next to the SQLite file, so the key stays with the data it signs for; none for an in-memory database. */
function defaultKeyFile(databaseUrl: string): string | null {
  if (isPostgresUrl(databaseUrl)) return join('data', DEV_KEY_FILE);
  const path = databaseUrl.slice('sqlite:'.length);
  return path === ':memory:' ? null : join(dirname(path), DEV_KEY_FILE);
}

/**
 * The identity provider's addresses: https, or http on a loopback host only
 * (localhost, 127.0.0.1, [::1]), whatever NODE_ENV says: keys fetched in the
 * clear over a network could be swapped by anyone on the path.
 */
function providerUrl(name: string) {
  return z.string().superRefine((value, ctx) => {
    if (!isProviderUrl(value)) ctx.addIssue({ code: 'custom', message: `${name} must be an https:// URL (http:// only on localhost)` });
  });
}

export function isProviderUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}

/** `true`, `false`, a hop count, or addresses/subnets as Express takes them (e.g. `loopback, 10.0.0.0/8`). */
function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** A setting read by `parse`, whose one-line Error becomes the setting's problem. */
function parsedBy<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx) => {
    try {
      return parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
}

const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//.test(url);

/** `sqlite:<path>`, `sqlite::memory:` or `postgres://...`, already checked by the schema. */
function parseDatabaseUrl(url: string, options: { schema?: string; busyTimeoutMs: number; poolSize: number }): DatabaseConfig {
  if (isPostgresUrl(url)) return { type: 'postgres', url, schema: options.schema, poolSize: options.poolSize };
  return { type: 'sqlite', path: url.slice('sqlite:'.length), busyTimeoutMs: options.busyTimeoutMs };
}

function databaseUrlProblem(url: string): string | null {
  if (isPostgresUrl(url)) return null;
  if (!url.startsWith('sqlite:')) return `must look like sqlite:<path>, sqlite::memory: or postgres://user@host/db (got "${url}")`;
  if (url === 'sqlite:') return 'sqlite: needs a file path or :memory:';
  return null;
}

/** Treats VAR= like an unset variable, as shells and .env files often leave them. */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => Boolean(kv[1])));
}
