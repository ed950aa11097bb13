import type { Client } from 'graphql-ws';
import { redisAnswers, TEST_REDIS_URL } from './redis';
import { startTestServer, type TestServer } from './server';
import { sharedDatabase } from './shared-database';

/** Two servers on one database with events through Redis, as useTwoInstances keeps them. */
export interface TwoInstances {
  /** The instances; reading one before beforeAll, or when `redisMissing`, throws. */
  readonly a: TestServer;
  readonly b: TestServer;
  /** Redis did not answer (outside CI only): each test warns and returns instead of running. */
  readonly redisMissing: boolean;
}

/**
 * Two instances behind a load balancer for the tests of a describe block:
 * servers on one sharedDatabase(label) with events through Redis at
 * TEST_REDIS_URL, INSTANCE_ID `<label>-a-<tag>` and `<label>-b-<tag>`.
 * Started in beforeAll; in afterAll `clients` (none unless given) are disposed,
 * both servers closed and the database dropped.
 *
 * When Redis does not answer nothing starts and `redisMissing` is true, except
 * under CI=true, where beforeAll fails (see redisAnswers).
 */
export function useTwoInstances(label: string, options: { clients?: Client[] } = {}): TwoInstances {
  const database = sharedDatabase(label);
  let a: TestServer | undefined;
  let b: TestServer | undefined;
  let redisMissing = false;

  beforeAll(async () => {
    if (!(await redisAnswers())) {
      redisMissing = true;
      return;
    }
    a = await startTestServer({ ...database.env, REDIS_URL: TEST_REDIS_URL, INSTANCE_ID: `${label}-a-${database.tag}` });
    b = await startTestServer({ ...database.env, REDIS_URL: TEST_REDIS_URL, INSTANCE_ID: `${label}-b-${database.tag}` });
  });

  afterAll(async () => {
    await Promise.all((options.clients ?? []).splice(0).map((c) => c.dispose()));
    await a?.close();
    await b?.close();
    await database.drop();
  });

  const started = (server: TestServer | undefined, name: string): TestServer => {
    if (!server) throw new Error(`instance ${name} of ${label} is not running${redisMissing ? ' (Redis is missing)' : ''}`);
    return server;
  };
  return {
    get a() {
      return started(a, 'a');
    },
    get b() {
      return started(b, 'b');
    },
    get redisMissing() {
      return redisMissing;
    },
  };
}

/**
 * Instance B's Redis link may still be starting when a test begins: calls
 * `send(n)` (a message through A) every 100 ms until `heard()` (B delivered
 * one); fails after 10 s.
 */
export async function untilLinked(send: (n: number) => Promise<unknown>, heard: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let n = 1; !heard(); n++) {
    if (Date.now() > deadline) throw new Error('instance B never received a message sent through A');
    await send(n);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
