import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { startServer } from '../server';
import { DEMO_ADMIN, DEMO_PASSWORD, demoLogins, seedDemo } from './demo-data';

/** Relative to where it runs: the project root under npm run demo. */
const DEMO_DATABASE = 'data/demo.sqlite';

/**
 * `npm run demo`: the server on 127.0.0.1 (unless HOST is set) with a database
 * and an admin of its own, whatever DATABASE_URL and ADMIN_* say (those are for
 * npm start). The port opens once the demo clinic exists; then the addresses
 * and the logins are printed. A port in use ends it with one line, exit code 1.
 */
async function demo(): Promise<void> {
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    ...process.env,
    HOST: process.env.HOST || '127.0.0.1',
    // Notification e-mails written to this terminal, none sent, unless SMTP_URL says where to send them.
    SMTP_URL: process.env.SMTP_URL || 'log',
    NOTIFY_POLL_MS: process.env.NOTIFY_POLL_MS || '5000',
    DATABASE_URL: `sqlite:${DEMO_DATABASE}`,
    ADMIN_EMAIL: DEMO_ADMIN.email,
    ADMIN_PASSWORD: DEMO_ADMIN.password,
  });
  let seeded: Awaited<ReturnType<typeof seedDemo>> | undefined;
  const server = await startServer(config, {
    logger: createLogger(config.logLevel),
    beforeListen: async (app) => {
      seeded = await seedDemo(app, DEMO_ADMIN.email);
    },
  });
  const origin = new URL(server.url).origin;
  const login = (email: string, name: string, note: string) => `  ${email.padEnd(32)} ${name.padEnd(18)} ${note}`;

  const lines = [
    '',
    `CareThread demo is ready (${seeded === 'created' ? 'demo clinic created' : 'demo clinic already there'})`,
    '',
    `  Dashboard  ${origin}/app`,
    `  GraphiQL   ${server.url}  (also the GraphQL endpoint, over HTTP and graphql-ws)`,
    `  Database   ${DEMO_DATABASE}, the demo's own whatever DATABASE_URL says (delete it to start afresh)`,
    ...(config.host === '127.0.0.1' ? ['  Reachable from this machine only: HOST=0.0.0.0 opens it to the network'] : []),
    '',
    `Logins (password ${DEMO_PASSWORD}, except the admin's):`,
    ...demoLogins.map((l) => login(l.email, l.name, l.note)),
    login(DEMO_ADMIN.email, 'Administrator', `admin of the first organisation, and the platform admin, password ${DEMO_ADMIN.password}`),
    '',
    'Try pat@demo.carethread in one tab of the dashboard and dana@demo.carethread in another. Ctrl-C stops.',
    '',
    config.notifications.smtpUrl === 'log'
      ? 'Notifications are printed here ("a notification e-mail"), not sent (SMTP_URL sends them): write as sam@demo.carethread to\n' +
        '  Dr Gary Green while Gary is signed out, and his e-mail shows after his delay, 5 minutes (1 to 1440 in his Notifications).'
      : 'Notifications are e-mailed through SMTP_URL.',
    '',
  ];
  console.log(lines.join('\n'));

  const stop = () => server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

demo().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
