import { asRecipient, World, type Person } from '../../support/world';
import { RunDatabase } from './database';
import { startInstance, stopAll, type Instance } from './instance';
import { newSchemaName, REDIS_URL, RUN_ENV } from './services';
import { TcpProxy } from './tcp-proxy';

/** describe, or describe.skip (with the global setup's loud message) when PostgreSQL or Redis is missing off CI. */
export const describeScale: jest.Describe = process.env[RUN_ENV.skip] ? describe.skip : describe;

export interface Cluster {
  /** This file's schema in the run's database. */
  schema: string;
  a: Instance;
  b: Instance;
  world: World;
  db: RunDatabase;
  /** With `proxied`: the TCP proxy between each instance and Redis. */
  proxies: { a: TcpProxy; b: TcpProxy };
}

/**
 * Two server processes, A and B, on one fresh schema and the same Redis,
 * started in beforeAll (fixtures go through A) and stopped in afterAll.
 * Read the fields inside tests.
 */
export function useCluster(label: string, options: { proxied?: boolean; nodeArgs?: string[]; env?: Record<string, string> } = {}): Cluster {
  const cluster = {} as Cluster;
  beforeAll(async () => {
    cluster.schema = newSchemaName(label);
    cluster.db = await RunDatabase.open();
    if (options.proxied) cluster.proxies = { a: await new TcpProxy(REDIS_URL).start(), b: await new TcpProxy(REDIS_URL).start() };
    // A first: it runs the migrations alone (starting together is its own test).
    const { nodeArgs, env } = options;
    cluster.a = await startInstance('A', { schema: cluster.schema, redisUrl: cluster.proxies?.a.url, nodeArgs, env });
    cluster.b = await startInstance('B', { schema: cluster.schema, redisUrl: cluster.proxies?.b.url, nodeArgs, env });
    cluster.world = await World.create(cluster.a);
  });
  afterAll(async () => {
    await stopAll();
    await Promise.all([cluster.proxies?.a.close(), cluster.proxies?.b.close()]);
    await cluster.db?.close();
  });
  return cluster;
}

/**
 * A patient and an auto-CC team of `size` contactable members the patient
 * shared with. The patient opens `threadId` to the team, and a second thread
 * to the same team, `probeId`, for probe messages (see untilLive).
 */
export async function teamThread(world: World, label: string, size: number) {
  const members: Person[] = [];
  for (let i = 1; i <= size; i++) members.push(await world.professional(`${label} Dr ${i}`));
  const team = await world.team(`${label} Team`, { autoCc: true, members });
  const pat = await world.patient(`${label} Pat`);
  await world.share(pat, team);
  const threadId = await world.thread(pat, [asRecipient(team)], `${label}: first`);
  const probeId = await world.thread(pat, [asRecipient(team)], 'probe', 'Probe');
  return { pat, members, team, everyone: [pat, ...members], threadId, probeId };
}
