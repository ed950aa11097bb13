import type { ServerOptions } from '../../src/server';
import { ADMIN, startTestServer, type TestServer } from './server';
import type { Client } from 'graphql-ws';
import { LeaveThreadDocument, LoginDocument, SendMessageDocument } from '../../web/gql/graphql';
import { ok, type Operation } from './graphql';
import { until } from './live';

export interface Person {
  id: string;
  name: string;
  email: string;
  token: string;
}

export interface TeamRef {
  id: string;
  name: string;
}

/** Every World user's password. */
export const PASSWORD = 'password-1234';
let counter = 0;

/** Builds fixtures through the public API, as an admin would: no database shortcuts. */
export class World {
  /** Every name, subject and message text this World put into the server: what no notification may carry (test/notifications.test.ts). */
  readonly said = new Set<string>();

  private constructor(
    readonly server: Pick<TestServer, 'url'>,
    readonly admin: Person,
  ) {}

  /** Any running server will do, in this process or another (only its URL is used). */
  static async create(server: Pick<TestServer, 'url'>): Promise<World> {
    const login = await signIn(server.url, ADMIN.email, ADMIN.password);
    return new World(server, { id: login.user.id, name: login.user.name, email: ADMIN.email, token: login.token });
  }

  /**
   * A new organisation, made by this world's admin (the start-up admin: the platform admin), and a world
   * whose admin is its first admin: what that world creates is the new organisation's.
   */
  async organisation(name: string, flags: { autoCcAllowed?: boolean } = {}): Promise<{ id: string; world: World }> {
    const email = `admin${++counter}-${name.toLowerCase().replace(/\W+/g, '.')}@test.example`;
    const { createOrganisation } = await this.asAdmin(
      `mutation($name: String!, $admin: FirstAdminInput!, $autoCc: Boolean) { createOrganisation(name: $name, firstAdmin: $admin, autoCcAllowed: $autoCc) { id } }`,
      { name, admin: { email, name: `Admin of ${name}`, password: PASSWORD }, autoCc: flags.autoCcAllowed ?? false },
    );
    const login = await signIn(this.server.url, email, PASSWORD);
    this.said.add(name);
    return { id: createOrganisation.id, world: new World(this.server, { id: login.user.id, name: login.user.name, email, token: login.token }) };
  }

  /** A professional: contactable unless told otherwise. */
  professional(name: string, flags: { contactable?: boolean; isAdmin?: boolean } = {}): Promise<Person> {
    return this.user(name, { kind: 'PROFESSIONAL', contactable: flags.contactable ?? true, isAdmin: flags.isAdmin ?? false });
  }

  patient(name: string): Promise<Person> {
    return this.user(name, { kind: 'PATIENT' });
  }

  async team(name: string, flags: { autoCc?: boolean; members?: Person[] } = {}): Promise<TeamRef> {
    const { createTeam } = await this.asAdmin(
      `mutation($name: String!, $autoCc: Boolean) { createTeam(name: $name, autoCc: $autoCc) { id name } }`,
      { name, autoCc: flags.autoCc ?? false },
    );
    this.said.add(name);
    for (const member of flags.members ?? []) await this.addMember(createTeam, member);
    return createTeam;
  }

  addMember(team: TeamRef, person: Person) {
    return this.asAdmin(`mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: team.id, u: person.id });
  }

  setAutoCc(team: TeamRef, enabled: boolean) {
    return this.asAdmin(`mutation($t: ID!, $e: Boolean!) { setTeamAutoCc(teamId: $t, enabled: $e) { id } }`, { t: team.id, e: enabled });
  }

  setContactable(person: Person, contactable: boolean) {
    return this.asAdmin(`mutation($u: ID!, $c: Boolean!) { setContactable(userId: $u, contactable: $c) { id } }`, {
      u: person.id,
      c: contactable,
    });
  }

  /** Sets how many contactable members an auto-CC team keeps (2 when never set). */
  setCoverageMinimum(team: TeamRef, minimum: number) {
    return this.asAdmin(`mutation($t: ID!, $n: Int!) { setTeamCoverageMinimum(teamId: $t, minimum: $n) { id } }`, { t: team.id, n: minimum });
  }

  /** The patient shares their record with a team or a professional. */
  share(patient: Person, target: TeamRef | Person) {
    const recipient = 'token' in target ? { userId: target.id } : { teamId: target.id };
    return ok(this.server.url, `mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`, { p: patient.id, r: recipient }, patient.token);
  }

  /** Creates a thread as `author` and returns its id. */
  async thread(author: Person, recipients: ({ teamId: string } | { userId: string })[], body = 'Hello', subject = 'Subject'): Promise<string> {
    const { createThread } = await ok(
      this.server.url,
      `mutation($s: String!, $b: String!, $r: [RecipientInput!]!) { createThread(subject: $s, body: $b, recipients: $r) { id } }`,
      { s: subject, b: body, r: recipients },
      author.token,
    );
    this.said.add(body).add(subject);
    return createThread.id;
  }

  /** A patient in the care network of an auto-CC team with two contactable members and one non-contactable member. */
  async careTeam(label: string) {
    const a = await this.professional(`${label} Dr A`);
    const b = await this.professional(`${label} Dr B`);
    const quiet = await this.professional(`${label} Dr Quiet`, { contactable: false });
    const team = await this.team(`${label} Team`, { autoCc: true, members: [a, b, quiet] });
    const pat = await this.patient(`${label} Pat`);
    await this.share(pat, team);
    return { a, b, quiet, team, pat };
  }

  /** Sends a message as `author`; returns its id. */
  async send(author: Person, threadId: string, body: string): Promise<string> {
    const { sendMessage } = await this.as(author, SendMessageDocument, { threadId, body });
    this.said.add(body);
    return sendMessage.id;
  }

  addParticipants(actor: Person, threadId: string, recipients: (TeamRef | Person)[]) {
    return this.as(actor, `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }`, {
      t: threadId,
      r: recipients.map(asRecipient),
    });
  }

  leave(person: Person, threadId: string) {
    return this.as(person, LeaveThreadDocument, { threadId });
  }

  /** Runs a request as someone and returns its data; throws on errors. */
  as<T = any, V = Record<string, unknown>>(person: Person, query: Operation<T, V>, variables?: V): Promise<T> {
    return ok(this.server.url, query, variables, person.token);
  }

  private asAdmin(query: string, variables?: Record<string, unknown>) {
    return this.as(this.admin, query, variables);
  }

  private async user(name: string, input: Record<string, unknown>): Promise<Person> {
    const email = `user${++counter}-${name.toLowerCase().replace(/\W+/g, '.')}@test.example`;
    const { createUser } = await this.asAdmin(`mutation($input: CreateUserInput!) { createUser(input: $input) { id name } }`, {
      input: { email, name, password: PASSWORD, ...input },
    });
    const { token } = await signIn(this.server.url, email, PASSWORD);
    this.said.add(name);
    return { id: createUser.id, name, email, token };
  }
}

/** Signs in on the server at `url` with a password; throws on errors. */
export async function signIn(url: string, email: string, password: string): Promise<{ token: string; user: { id: string; name: string } }> {
  return (await ok(url, LoginDocument, { email, password })).login;
}

export const asRecipient = (target: TeamRef | Person) => ('token' in target ? { userId: target.id } : { teamId: target.id });

/**
 * One server and World shared by the tests of a file: started in beforeAll,
 * closed in afterAll. Read `env.server` and `env.world` inside tests.
 * `settings` and `options` go to startTestServer (e.g. a short ESCALATION_POLL_MS and a TestClock).
 */
export function useWorld(settings: Record<string, string> = {}, options: ServerOptions = {}): { readonly server: TestServer; readonly world: World } {
  const env = {} as { server: TestServer; world: World };
  beforeAll(async () => {
    env.server = await startTestServer(settings, options);
    env.world = await World.create(env.server);
  });
  afterAll(() => env.server.close());
  return env;
}

/**
 * useWorld for tests with live sockets: `env.clients` are disposed after each
 * test, and the next test starts only once the server holds no subscription
 * and no tracked socket, so counts like untilSubscribed(n) are its own.
 */
export function useLiveWorld(
  settings: Record<string, string> = {},
  options: ServerOptions = {},
): { readonly server: TestServer; readonly world: World; readonly clients: Client[] } {
  const env = Object.assign(useWorld(settings, options), { clients: [] as Client[] });
  afterEach(async () => {
    await Promise.all(env.clients.splice(0).map((c) => c.dispose()));
    await until(() => env.server.live.size === 0 && env.server.app.liveSessions.size === 0);
  });
  return env;
}
