import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** Where the data lives. Only the embedded SQLite database for now. */
export interface DatabaseConfig {
  type: 'sqlite';
  /** A file path, or ':memory:'. */
  path: string;
}

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
}

export class ConfigError extends Error {}

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
  })
  // `when`: zod skips object-level checks once a field failed; these must be listed too.
  .refine((env) => Boolean(env.ADMIN_EMAIL) === Boolean(env.ADMIN_PASSWORD), {
    message: 'ADMIN_EMAIL and ADMIN_PASSWORD go together',
    when: () => true,
  })
  .refine((env) => env.NODE_ENV !== 'production' || Boolean(env.JWT_SECRET), {
    path: ['JWT_SECRET'],
    message: 'JWT_SECRET is required when NODE_ENV=production (at least 32 characters)',
    when: () => true,
  });

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
    database: parseDatabaseUrl(e.DATABASE_URL),
    jwtSecret: e.JWT_SECRET ? new TextEncoder().encode(e.JWT_SECRET) : randomBytes(32),
    jwtSecretIsRandom: !e.JWT_SECRET,
    tokenTtlSeconds: e.TOKEN_TTL_SECONDS,
    passwordCost: e.PASSWORD_HASH_COST,
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL, password: e.ADMIN_PASSWORD } : null,
    logLevel: e.LOG_LEVEL,
  };
}

/** `sqlite:<path>` or `sqlite::memory:`; throws ConfigError otherwise. */
export function parseDatabaseUrl(url: string): DatabaseConfig {
  const problem = databaseUrlProblem(url);
  if (problem) throw new ConfigError(`DATABASE_URL: ${problem}`);
  return { type: 'sqlite', path: url.slice('sqlite:'.length) };
}

function databaseUrlProblem(url: string): string | null {
  if (!url.startsWith('sqlite:')) return `must look like sqlite:<path> or sqlite::memory: (got "${url}")`;
  if (url === 'sqlite:') return 'sqlite: needs a file path or :memory:';
  return null;
}

/** Treats VAR= like an unset variable, as shells and .env files often leave them. */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => Boolean(kv[1])));
}
