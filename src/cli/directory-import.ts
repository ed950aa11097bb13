/**
 * `npm run import -- [--as <admin email>] <file.json | file.csv>`: creates the professionals, patients,
 * teams (with members and auto-CC) and record shares of a directory file in the database the server is
 * configured with (DATABASE_URL, DATABASE_SCHEMA), in one transaction, audited as the admin's doing
 * (`--as`, by default ADMIN_EMAIL). The layouts, and how imported people sign in: docs/operations.md.
 *
 * Exit 0: `imported N professionals, N patients, N teams, N memberships, N shares in S s`.
 * Exit 1: the file was refused, one line per problem (where in the file, and why); nothing changed.
 * Exit 2: nothing was done: a bad option or setting, the database unreachable or not migrated.
 */
import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { createApp } from '../app';
import { ConfigError, loadConfig } from '../config';
import { createDataSource } from '../data-source';
import { createLogger } from '../logger';
import { readDirectory, DirectoryFileError } from '../modules/directory/directory-file';
import { DirectoryImport } from '../modules/directory/directory-import';
import { User } from '../modules/users/user.entity';
import { normalizeEmail } from '../modules/users/user-rules';
import { CommandRefused, refuseUnmigrated } from './audit-database';

const USAGE = 'usage: directory-import [--as <admin email>] <file.json | file.csv>';

async function main(argv: string[]): Promise<number> {
  const { file, as } = parseArguments(argv);
  const format = { '.json': 'json', '.csv': 'csv' }[extname(file).toLowerCase()] as 'json' | 'csv' | undefined;
  if (!format) throw new CommandRefused(`${file}: the file must end in .json or .csv`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CommandRefused(`cannot read ${file}: ${(error as Error).message}`);
  }
  const config = settings();
  const adminEmail = as ?? config.admin?.email;
  if (!adminEmail) throw new CommandRefused('say which admin imports: --as <email>, or set ADMIN_EMAIL');
  const directory = readDirectory(text, format);
  if (config.database.type === 'sqlite' && (config.database.path === ':memory:' || !existsSync(config.database.path))) {
    // Opening a missing file would create an empty database there.
    throw new CommandRefused(`no database file at ${config.database.path} (DATABASE_URL): start the server once to create it`);
  }

  const db = createDataSource(config.database);
  try {
    await db.initialize();
  } catch (error) {
    throw new CommandRefused(`cannot open the database: ${(error as Error).message}`);
  }
  const app = createApp(config, db, createLogger('warn'));
  try {
    await refuseUnmigrated(db, 'import');
    const admin = await db.manager.findOneBy(User, { email: normalizeEmail(adminEmail) });
    if (!admin?.isAdmin || admin.disabled) throw new CommandRefused(`${adminEmail} is not an enabled admin of this database`);
    const t0 = performance.now();
    const done = await new DirectoryImport({ uow: app.uow }).run(admin, directory);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `imported ${done.professionals} professionals, ${done.patients} patients, ${done.teams} teams, ${done.memberships} memberships, ${done.shares} shares in ${seconds} s`,
    );
    return 0;
  } finally {
    await app.close();
    await db.destroy();
  }
}

function parseArguments(argv: string[]): { file: string; as?: string } {
  if (argv.length === 1 && !argv[0].startsWith('--')) return { file: argv[0] };
  if (argv.length === 3 && argv[0] === '--as' && !argv[2].startsWith('--')) return { as: argv[1], file: argv[2] };
  throw new CommandRefused(USAGE);
}

/** The server's settings; JWT_SECRET is not needed here, so production does not demand it. */
function settings() {
  try {
    return loadConfig({ ...process.env, NODE_ENV: 'development' });
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandRefused(error.message.replace(/\s*\n\s*/g, ' '));
    throw error;
  }
}

// exitCode rather than exit(): stdout may be a pipe that is still being written (asynchronous outside Linux).
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error) => {
    if (error instanceof DirectoryFileError) {
      console.error(`directory not imported, nothing changed:\n${error.problems.join('\n')}`);
      process.exitCode = 1;
    } else {
      console.error(`directory not imported: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 2;
    }
  },
);
