import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { startServer } from '../server';
import { DEMO_PASSWORD, demoLogins, seedDemo } from './demo-data';

const DEMO_ADMIN = { email: 'admin@demo.carethread', password: 'carethread-admin' };

/** `npm run demo`: the server on its own demo database, with a small clinic to try. */
async function demo(): Promise<void> {
  const config = loadConfig({
    DATABASE_URL: 'sqlite:./data/demo.sqlite',
    ADMIN_EMAIL: DEMO_ADMIN.email,
    ADMIN_PASSWORD: DEMO_ADMIN.password,
    LOG_LEVEL: 'warn',
    ...process.env,
  });
  const server = await startServer(config, { logger: createLogger(config.logLevel) });
  const admin = config.admin ?? DEMO_ADMIN;
  const seeded = await seedDemo(server.app, admin.email);

  const lines = [
    '',
    `CareThread demo (${seeded === 'created' ? 'demo data created' : 'demo data already present'})`,
    `GraphQL (HTTP and graphql-ws): ${server.url}`,
    '',
    `Admin: ${admin.email} / ${admin.password}`,
    `Everyone else: password ${DEMO_PASSWORD}`,
    ...demoLogins.map((l) => `  ${l.email.padEnd(26)} ${l.name.padEnd(18)} ${l.note}`),
    '',
    'Try: mutation { login(email: "pat@demo.carethread", password: "carethread-demo") { token } }',
    'then send the token as "Authorization: Bearer <token>". Ctrl-C stops.',
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
