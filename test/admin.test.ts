import { codes, failure, gql, ok } from './support/graphql';
import { ADMIN } from './support/server';
import { asRecipient, useWorld, type Person, type TeamRef } from './support/world';

const env = useWorld();

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { id name kind contactable isAdmin } }`;
const CREATE_TEAM = `mutation($name: String!, $autoCc: Boolean) { createTeam(name: $name, autoCc: $autoCc) { id name autoCc } }`;
const ADD_MEMBER = `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id members { id } } }`;
const REMOVE_MEMBER = `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id members { id } } }`;
const SET_AUTO_CC = `mutation($t: ID!, $e: Boolean!) { setTeamAutoCc(teamId: $t, enabled: $e) { id autoCc } }`;
const SET_CONTACTABLE = `mutation($u: ID!, $c: Boolean!) { setContactable(userId: $u, contactable: $c) { id contactable } }`;
const SHARE = `mutation($p: ID!, $r: RecipientInput!) { shareRecord(patientId: $p, recipient: $r) }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id name kind contactable isAdmin } } }`;
const TEAMS = `{ teams { id name autoCc members { id } contactableMembers { id } } }`;
const RECIPIENTS = `{ recipients { __typename ... on TeamRecipient { team { id } } ... on UserRecipient { user { id } } } }`;

let emails = 0;
const freshEmail = (prefix = 'new') => `${prefix}${++emails}-${Date.now()}@admin.test.example`;
const validUser = (overrides: Record<string, unknown> = {}) => ({
  email: freshEmail(),
  name: 'New Person',
  kind: 'PROFESSIONAL',
  password: 'password-1234',
  ...overrides,
});

async function teamAsAdmin(id: string): Promise<{ id: string; name: string; autoCc: boolean; members: { id: string }[]; contactableMembers: { id: string }[] } | undefined> {
  const { teams } = await env.world.as(env.world.admin, TEAMS);
  return teams.find((t: { id: string }) => t.id === id);
}

const memberIds = async (team: TeamRef) => ((await teamAsAdmin(team.id))?.members ?? []).map((m) => m.id).sort();
const teamNames = async () => ((await env.world.as(env.world.admin, TEAMS)).teams as { name: string }[]).map((t) => t.name);
const contactableOf = async (person: Person): Promise<boolean> => (await env.world.as(person, `{ me { contactable } }`)).me.contactable;
const canLogin = async (email: string, password: string) => !(await gql(env.server.url, LOGIN, { email, password })).errors;

describe('admin mutations are for admins only', () => {
  let pro: Person;
  let pat: Person;
  beforeAll(async () => {
    pro = await env.world.professional('Pro NotAdmin');
    pat = await env.world.patient('Pat NotAdmin');
  });

  test('createUser: a professional and a patient get FORBIDDEN and no user is created', async () => {
    for (const caller of [pro, pat]) {
      const input = validUser();
      expect(await codes(env.server.url, CREATE_USER, { input }, caller.token)).toEqual(['FORBIDDEN']);
      expect(await canLogin(input.email, input.password)).toBe(false);
    }
  });

  test('createTeam: a professional and a patient get FORBIDDEN and no team is created', async () => {
    for (const [i, caller] of [pro, pat].entries()) {
      const name = `Forbidden team ${i}`;
      expect(await codes(env.server.url, CREATE_TEAM, { name, autoCc: true }, caller.token)).toEqual(['FORBIDDEN']);
      expect(await teamNames()).not.toContain(name);
    }
  });

  test('addTeamMember: a professional and a patient get FORBIDDEN and membership does not change', async () => {
    const team = await env.world.team('Add forbidden', { members: [] });
    const outsider = await env.world.professional('Outsider');
    for (const caller of [pro, pat]) {
      expect(await codes(env.server.url, ADD_MEMBER, { t: team.id, u: outsider.id }, caller.token)).toEqual(['FORBIDDEN']);
      // Not even the caller may add themself.
      expect(await codes(env.server.url, ADD_MEMBER, { t: team.id, u: caller.id }, caller.token)).toEqual(['FORBIDDEN']);
    }
    expect(await memberIds(team)).toEqual([]);
  });

  test('removeTeamMember: a professional and a patient get FORBIDDEN and membership does not change', async () => {
    const member = await env.world.professional('Stays Member');
    const team = await env.world.team('Remove forbidden', { members: [member, pro] });
    for (const caller of [pro, pat]) {
      expect(await codes(env.server.url, REMOVE_MEMBER, { t: team.id, u: member.id }, caller.token)).toEqual(['FORBIDDEN']);
    }
    // A member may not remove themself either: membership is an admin decision.
    expect(await codes(env.server.url, REMOVE_MEMBER, { t: team.id, u: pro.id }, pro.token)).toEqual(['FORBIDDEN']);
    expect(await memberIds(team)).toEqual([member.id, pro.id].sort());
  });

  test('setTeamAutoCc: a professional and a patient get FORBIDDEN and auto-CC does not change', async () => {
    const team = await env.world.team('Auto-CC forbidden', { autoCc: false, members: [pro] });
    for (const caller of [pro, pat]) {
      expect(await codes(env.server.url, SET_AUTO_CC, { t: team.id, e: true }, caller.token)).toEqual(['FORBIDDEN']);
    }
    expect((await teamAsAdmin(team.id))?.autoCc).toBe(false);
  });

  test('an admin other than the start-up admin may use them', async () => {
    const second = await env.world.professional('Second Admin', { isAdmin: true });
    const { createTeam } = await env.world.as(second, CREATE_TEAM, { name: 'Made by second admin', autoCc: false });
    const { setTeamAutoCc } = await env.world.as(second, SET_AUTO_CC, { t: createTeam.id, e: true });
    expect(setTeamAutoCc.autoCc).toBe(true);
  });

  test('without a token they are UNAUTHENTICATED', async () => {
    expect(await codes(env.server.url, CREATE_USER, { input: validUser() })).toEqual(['UNAUTHENTICATED']);
    expect(await codes(env.server.url, CREATE_TEAM, { name: 'Anonymous team' })).toEqual(['UNAUTHENTICATED']);
  });
});

describe('createUser', () => {
  test('makes a professional contactable by default and a user who can log in', async () => {
    const input = validUser({ name: '  Dr Trimmed  ' });
    const { createUser } = await env.world.as(env.world.admin, CREATE_USER, { input });
    expect(createUser).toMatchObject({ name: 'Dr Trimmed', kind: 'PROFESSIONAL', contactable: true, isAdmin: false });
    const { login } = await ok(env.server.url, LOGIN, { email: input.email, password: input.password });
    expect(login.user.id).toBe(createUser.id);
  });

  test('makes patients never contactable, even with contactable: true', async () => {
    for (const contactable of [true, null, undefined]) {
      const input = validUser({ kind: 'PATIENT', contactable });
      const { createUser } = await env.world.as(env.world.admin, CREATE_USER, { input });
      expect(createUser).toMatchObject({ kind: 'PATIENT', contactable: false });
      const { login } = await ok(env.server.url, LOGIN, { email: input.email, password: input.password });
      expect(login.user.contactable).toBe(false);
    }
  });

  test('refuses a duplicate email (BAD_USER_INPUT), whatever its case or surrounding spaces', async () => {
    const input = validUser();
    const { createUser } = await env.world.as(env.world.admin, CREATE_USER, { input });
    for (const email of [input.email, input.email.toUpperCase(), `  ${input.email} `]) {
      const error = await failure(env.server.url, CREATE_USER, { input: { ...input, email, name: 'Impostor', password: 'other-password' } }, env.world.admin.token);
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message).toMatch(/email/i);
    }
    // The first user is untouched: same name, same password.
    const { login } = await ok(env.server.url, LOGIN, { email: input.email, password: input.password });
    expect(login.user).toMatchObject({ id: createUser.id, name: input.name });
    expect(await canLogin(input.email, 'other-password')).toBe(false);
  });

  test('refuses a patient admin (BAD_USER_INPUT) and creates nobody', async () => {
    const input = validUser({ kind: 'PATIENT', isAdmin: true });
    const error = await failure(env.server.url, CREATE_USER, { input }, env.world.admin.token);
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/patient.*admin/i);
    expect(await canLogin(input.email, input.password)).toBe(false);
  });

  test.each([
    ['an email that is not an address', { email: 'not-an-email' }, /email/i],
    ['an empty email', { email: '' }, /email/i],
    ['an empty name', { name: '' }, /name/i],
    ['a blank name', { name: '   ' }, /name/i],
    ['a name longer than 200 characters', { name: 'n'.repeat(201) }, /name/i],
    ['a password shorter than 8 characters', { password: 'short' }, /password/i],
    ['a password longer than 200 characters', { password: 'p'.repeat(201) }, /password/i],
  ])('validates its input: %s is BAD_USER_INPUT with a clear message', async (_what, overrides, message) => {
    const input = validUser(overrides);
    const error = await failure(env.server.url, CREATE_USER, { input }, env.world.admin.token);
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/Argument Validation Error/i);
    if (input.email) expect(await canLogin(input.email, input.password)).toBe(false);
  });

  test('a bad kind is refused before anything runs (BAD_USER_INPUT)', async () => {
    const input = validUser({ kind: 'ROBOT' });
    expect(await codes(env.server.url, CREATE_USER, { input }, env.world.admin.token)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('setContactable', () => {
  test('the professional themself may change their own flag', async () => {
    const pro = await env.world.professional('Self Switcher');
    const { setContactable } = await env.world.as(pro, SET_CONTACTABLE, { u: pro.id, c: false });
    expect(setContactable).toEqual({ id: pro.id, contactable: false });
    expect(await contactableOf(pro)).toBe(false);
    await env.world.as(pro, SET_CONTACTABLE, { u: pro.id, c: true });
    expect(await contactableOf(pro)).toBe(true);
  });

  test('an admin may change anyone’s flag', async () => {
    const pro = await env.world.professional('Admin Switched');
    const { setContactable } = await env.world.as(env.world.admin, SET_CONTACTABLE, { u: pro.id, c: false });
    expect(setContactable).toEqual({ id: pro.id, contactable: false });
    expect(await contactableOf(pro)).toBe(false);
  });

  test('another professional gets FORBIDDEN and nothing changes', async () => {
    const target = await env.world.professional('Target Pro');
    const other = await env.world.professional('Meddler Pro');
    expect(await codes(env.server.url, SET_CONTACTABLE, { u: target.id, c: false }, other.token)).toEqual(['FORBIDDEN']);
    expect(await contactableOf(target)).toBe(true);
  });

  test('a patient target is BAD_USER_INPUT, by an admin or by the patient themself, and stays non-contactable', async () => {
    const pat = await env.world.patient('Pat Contactable');
    const byAdmin = await failure(env.server.url, SET_CONTACTABLE, { u: pat.id, c: true }, env.world.admin.token);
    expect(byAdmin.extensions?.code).toBe('BAD_USER_INPUT');
    expect(byAdmin.message).toMatch(/patient/i);
    expect(await codes(env.server.url, SET_CONTACTABLE, { u: pat.id, c: true }, pat.token)).toEqual(['BAD_USER_INPUT']);
    expect(await contactableOf(pat)).toBe(false);
  });

  test('an unknown user is NOT_FOUND', async () => {
    expect(await codes(env.server.url, SET_CONTACTABLE, { u: '00000000-0000-4000-8000-000000000000', c: true }, env.world.admin.token)).toEqual([
      'NOT_FOUND',
    ]);
  });
});

describe('shareRecord', () => {
  let pat: Person;
  let otherPat: Person;
  let pro: Person;
  let team: TeamRef;
  beforeAll(async () => {
    pat = await env.world.patient('Sharing Pat');
    otherPat = await env.world.patient('Other Pat');
    pro = await env.world.professional('Shared Pro');
    team = await env.world.team('Share Team', { autoCc: true, members: [pro] });
  });

  const patientTeams = async (p: Person) => ((await env.world.as(p, `{ teams { id } }`)).teams as { id: string }[]).map((t) => t.id);
  const offered = async (p: Person) =>
    ((await env.world.as(p, RECIPIENTS)).recipients as { team?: { id: string }; user?: { id: string } }[]).map((r) => r.team?.id ?? r.user?.id);

  test('the patient themself may share with a team, and then sees that team in `teams` (rule 8)', async () => {
    const me = await env.world.patient('Self Sharer');
    expect(await patientTeams(me)).toEqual([]);
    expect(await env.world.as(me, SHARE, { p: me.id, r: { teamId: team.id } })).toEqual({ shareRecord: true });
    expect(await patientTeams(me)).toEqual([team.id]);
    expect(await offered(me)).toContain(team.id);
  });

  test('an admin may share a patient’s record with a professional', async () => {
    const me = await env.world.patient('Admin Shared');
    const direct = await env.world.professional('Direct Pro');
    expect(await offered(me)).not.toContain(direct.id);
    expect(await env.world.as(env.world.admin, SHARE, { p: me.id, r: { userId: direct.id } })).toEqual({ shareRecord: true });
    expect(await offered(me)).toContain(direct.id);
  });

  test('another patient or a (non-admin) professional gets FORBIDDEN and nothing is shared', async () => {
    for (const caller of [otherPat, pro]) {
      expect(await codes(env.server.url, SHARE, { p: pat.id, r: { teamId: team.id } }, caller.token)).toEqual(['FORBIDDEN']);
    }
    expect(await patientTeams(pat)).toEqual([]);
    expect(await offered(pat)).toEqual([]);
  });

  test('both or neither of teamId and userId is BAD_USER_INPUT', async () => {
    for (const r of [{ teamId: team.id, userId: pro.id }, {}]) {
      const error = await failure(env.server.url, SHARE, { p: pat.id, r }, pat.token);
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message).toContain('Exactly one key must be specified for OneOf type "RecipientInput"');
    }
    expect(await patientTeams(pat)).toEqual([]);
    expect(await offered(pat)).toEqual([]);
  });

  test('sharing with a patient is BAD_USER_INPUT', async () => {
    const error = await failure(env.server.url, SHARE, { p: pat.id, r: { userId: otherPat.id } }, pat.token);
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await codes(env.server.url, SHARE, { p: pat.id, r: { userId: otherPat.id } }, env.world.admin.token)).toEqual(['BAD_USER_INPUT']);
    expect(await offered(pat)).toEqual([]);
  });

  test('sharing with an unknown team or professional is BAD_USER_INPUT', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await codes(env.server.url, SHARE, { p: pat.id, r: { teamId: unknown } }, pat.token)).toEqual(['BAD_USER_INPUT']);
    expect(await codes(env.server.url, SHARE, { p: pat.id, r: { userId: unknown } }, pat.token)).toEqual(['BAD_USER_INPUT']);
  });

  test('sharing the record of a professional is BAD_USER_INPUT; of an unknown patient NOT_FOUND', async () => {
    expect(await codes(env.server.url, SHARE, { p: pro.id, r: { teamId: team.id } }, env.world.admin.token)).toEqual(['BAD_USER_INPUT']);
    expect(await codes(env.server.url, SHARE, { p: '00000000-0000-4000-8000-000000000000', r: { teamId: team.id } }, env.world.admin.token)).toEqual([
      'NOT_FOUND',
    ]);
  });

  test('sharing twice is harmless', async () => {
    const me = await env.world.patient('Twice Sharer');
    for (let i = 0; i < 2; i++) {
      expect(await env.world.as(me, SHARE, { p: me.id, r: { teamId: team.id } })).toEqual({ shareRecord: true });
      expect(await env.world.as(me, SHARE, { p: me.id, r: { userId: pro.id } })).toEqual({ shareRecord: true });
    }
    expect(await patientTeams(me)).toEqual([team.id]);
    // The team is one option; its member is offered through it, not twice.
    expect((await offered(me)).filter((id) => id === team.id)).toHaveLength(1);
  });
});

describe('teams and membership', () => {
  test('addTeamMember of a patient is BAD_USER_INPUT and the patient is not a member', async () => {
    const team = await env.world.team('No Patients');
    const pat = await env.world.patient('Would-be Member');
    const error = await failure(env.server.url, ADD_MEMBER, { t: team.id, u: pat.id }, env.world.admin.token);
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/professional/i);
    expect(await memberIds(team)).toEqual([]);
  });

  test('addTeamMember of an unknown user is BAD_USER_INPUT; to an unknown team NOT_FOUND', async () => {
    const team = await env.world.team('Unknowns');
    const pro = await env.world.professional('Known Pro');
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await codes(env.server.url, ADD_MEMBER, { t: team.id, u: unknown }, env.world.admin.token)).toEqual(['BAD_USER_INPUT']);
    expect(await codes(env.server.url, ADD_MEMBER, { t: unknown, u: pro.id }, env.world.admin.token)).toEqual(['NOT_FOUND']);
  });

  test("an admin may not add themself to a team (FORBIDDEN), which would open its patients' threads to them; another admin may add them", async () => {
    const { team, pat } = await env.world.careTeam('Self-added');
    const threadId = await env.world.thread(pat, [asRecipient(team)], 'Private symptoms', 'Private');
    // A contactable admin would join the team's open threads; the start-up admin is not contactable, and is refused all the same.
    const second = await env.world.professional('Self-adding Admin', { isAdmin: true });
    const MESSAGES = `query($t: ID!) { thread(id: $t) { messages(first: 10) { edges { node { body } } } } }`;
    for (const admin of [second, env.world.admin]) {
      expect(await codes(env.server.url, ADD_MEMBER, { t: team.id, u: admin.id }, admin.token)).toEqual(['FORBIDDEN']);
      expect(await memberIds(team)).not.toContain(admin.id);
      expect(await codes(env.server.url, MESSAGES, { t: threadId }, admin.token)).toEqual(['NOT_FOUND']);
    }

    // The decision is another admin's: then they are a member like any other.
    await env.world.addMember(team, second);
    const { thread } = await env.world.as(second, MESSAGES, { t: threadId });
    expect(thread.messages.edges.map((e: { node: { body: string } }) => e.node.body)).toEqual(['Private symptoms']);
  });

  test('adding a member twice keeps one membership', async () => {
    const pro = await env.world.professional('Added Twice');
    const team = await env.world.team('Twice', { members: [pro] });
    const { addTeamMember } = await env.world.as(env.world.admin, ADD_MEMBER, { t: team.id, u: pro.id });
    expect(addTeamMember.members).toEqual([{ id: pro.id }]);
  });

  test('removeTeamMember removes a member; removing a non-member is BAD_USER_INPUT', async () => {
    const a = await env.world.professional('Remove A');
    const b = await env.world.professional('Remove B');
    const team = await env.world.team('Removals', { members: [a, b] });
    const { removeTeamMember } = await env.world.as(env.world.admin, REMOVE_MEMBER, { t: team.id, u: a.id });
    expect(removeTeamMember.members).toEqual([{ id: b.id }]);
    const error = await failure(env.server.url, REMOVE_MEMBER, { t: team.id, u: a.id }, env.world.admin.token);
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/not a member/i);
    expect(await memberIds(team)).toEqual([b.id]);
  });

  test('a duplicate team name is BAD_USER_INPUT and makes no second team', async () => {
    await env.world.team('Cardiology');
    for (const name of ['Cardiology', '  Cardiology ']) {
      const error = await failure(env.server.url, CREATE_TEAM, { name }, env.world.admin.token);
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message).toMatch(/Cardiology/);
    }
    expect((await teamNames()).filter((n) => n.trim() === 'Cardiology')).toHaveLength(1);
  });

  test('setTeamAutoCc switches auto-CC both ways; an unknown team is NOT_FOUND', async () => {
    const team = await env.world.team('Switching');
    expect((await env.world.as(env.world.admin, SET_AUTO_CC, { t: team.id, e: true })).setTeamAutoCc.autoCc).toBe(true);
    expect((await teamAsAdmin(team.id))?.autoCc).toBe(true);
    expect((await env.world.as(env.world.admin, SET_AUTO_CC, { t: team.id, e: false })).setTeamAutoCc.autoCc).toBe(false);
    expect((await teamAsAdmin(team.id))?.autoCc).toBe(false);
    expect(await codes(env.server.url, SET_AUTO_CC, { t: '00000000-0000-4000-8000-000000000000', e: true }, env.world.admin.token)).toEqual(['NOT_FOUND']);
  });

  test('Team.members lists every member and contactableMembers only the contactable ones', async () => {
    const on = await env.world.professional('Member On');
    const off = await env.world.professional('Member Off', { contactable: false });
    const later = await env.world.professional('Member Later');
    const team = await env.world.team('Mixed', { autoCc: true, members: [on, off, later] });
    // One contactable member is below the default minimum of 2: the admin lowers it first.
    await env.world.setCoverageMinimum(team, 1);
    await env.world.as(later, SET_CONTACTABLE, { u: later.id, c: false });
    const seen = await teamAsAdmin(team.id);
    expect(seen?.members.map((m) => m.id).sort()).toEqual([on.id, off.id, later.id].sort());
    expect(seen?.contactableMembers.map((m) => m.id)).toEqual([on.id]);
    // Members also see their own team through User.teams.
    const { me } = await env.world.as(on, `{ me { teams { id name } } }`);
    expect(me.teams).toEqual([{ id: team.id, name: 'Mixed' }]);
  });

  test('the start-up admin is a non-contactable professional', async () => {
    const { login } = await ok(env.server.url, LOGIN, ADMIN);
    expect(login.user).toMatchObject({ kind: 'PROFESSIONAL', isAdmin: true, contactable: false });
  });
});
