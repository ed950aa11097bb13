/**
 * `npm run audit:verify [-- --anchor <hash>]`: checks the whole audit hash
 * chain of the database the server is configured with (DATABASE_URL,
 * DATABASE_SCHEMA) without changing anything, and prints one line.
 *
 * Exit 0: `audit chain intact: N events, head <hash>`.
 * Exit 1: `audit chain broken at event <id>: <what is wrong>` (or the anchor is missing).
 * Exit 2: nothing was verified: a bad setting, the database unreachable or not migrated.
 */
import 'reflect-metadata';
import { describeReport, intact, verifyChain } from '../modules/audit/audit-verify';
import { CommandRefused, openAuditDatabase } from './audit-database';

async function main(argv: string[]): Promise<number> {
  const anchor = anchorArgument(argv);
  const db = await openAuditDatabase('verify');
  try {
    const report = await verifyChain(db, { anchor });
    console.log(describeReport(report));
    return intact(report) ? 0 : 1;
  } finally {
    await db.destroy();
  }
}

function anchorArgument(argv: string[]): string | undefined {
  if (!argv.length) return undefined;
  const [flag, hash, ...rest] = argv;
  if (flag !== '--anchor' || !hash || !/^[0-9a-f]{64}$/.test(hash) || rest.length) {
    throw new CommandRefused('usage: audit-verify [--anchor <head hash printed by an earlier run, 64 hex digits>]');
  }
  return hash;
}

// exitCode rather than exit(): stdout may be a pipe that is still being written (asynchronous outside Linux).
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(`audit chain not verified: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
