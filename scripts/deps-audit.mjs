// `npm run deps:audit`: the production dependencies against known advisories.
//
// 1. `npm audit --omit=dev`: fails on any high or critical advisory not listed
//    in ACCEPTED with the reason it does not apply to CareThread.
// 2. Every installed copy of the packages in MINIMUM is at least that version
//    (the versions that fixed advisories known when they were set). This part
//    needs no network, so it still holds where the registry's advisory
//    endpoint cannot be reached (some mirrors answer it with 405); step 1 then
//    says so and is skipped rather than failing the build.
import { execFileSync } from 'node:child_process';
import semver from 'semver';

const MINIMUM = { ws: '8.21.0', typeorm: '1.0.0' };
/** Advisory URL -> why it does not apply. Empty: none accepted. */
const ACCEPTED = {};
const BLOCKING = new Set(['high', 'critical']);

function npm(args) {
  try {
    return JSON.parse(execFileSync('npm', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    // npm exits 1 when it finds advisories; its JSON is still on stdout.
    if (error.stdout) return JSON.parse(error.stdout);
    throw error;
  }
}

let failed = false;

const audit = npm(['audit', '--omit=dev', '--json']);
if (audit.vulnerabilities) {
  const blocking = Object.values(audit.vulnerabilities)
    .flatMap((v) => v.via.filter((via) => typeof via === 'object').map((via) => ({ name: v.name, ...via })))
    .filter((a) => BLOCKING.has(a.severity) && !ACCEPTED[a.url]);
  for (const a of blocking) console.error(`${a.severity}: ${a.name} ${a.range}: ${a.title} (${a.url})`);
  console.log(`npm audit: ${Object.keys(audit.vulnerabilities).length} packages with advisories, ${blocking.length} high or critical not accepted`);
  failed ||= blocking.length > 0;
} else {
  console.log(`npm audit: skipped, the advisory endpoint did not answer (${audit.message ?? audit.error?.summary ?? 'no report'})`);
}

const installed = [];
(function walk(deps = {}) {
  for (const [name, dep] of Object.entries(deps)) {
    if (name in MINIMUM && dep.version) installed.push({ name, version: dep.version });
    walk(dep.dependencies);
  }
})(npm(['ls', '--omit=dev', '--all', '--json']).dependencies);
for (const name of Object.keys(MINIMUM)) {
  const copies = installed.filter((c) => c.name === name);
  const old = copies.filter((c) => semver.lt(c.version, MINIMUM[name]));
  console.log(`${name}: ${[...new Set(copies.map((c) => c.version))].join(', ') || 'not installed'} (at least ${MINIMUM[name]})`);
  failed ||= copies.length === 0 || old.length > 0;
}

process.exit(failed ? 1 : 0);
