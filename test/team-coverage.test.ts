import { auditEvents } from './support/audit-requests';
import { codes, failure, gql } from './support/graphql';
import { asRecipient, useWorld, type Person, type TeamRef } from './support/world';

// Coverage (issue 7): an auto-CC team keeps a minimum number of contactable,
// enabled members (2 unless an admin sets it), so that a patient writing to
// it always reaches someone. A member marking themself not contactable, or a
// removal, that would take it below is refused with BAD_USER_INPUT saying
// why, and changes nothing. The drop-down says how many members a team
// option reaches. Everything through the API, against a real server.

const env = useWorld();

const SET_CONTACTABLE = `mutation($u: ID!, $c: Boolean!) { setContactable(userId: $u, contactable: $c) { id contactable } }`;
const REMOVE_MEMBER = `mutation($t: ID!, $u: ID!) { removeTeamMember(teamId: $t, userId: $u) { id } }`;
const ADD_MEMBER = `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`;
const SET_MINIMUM = `mutation($t: ID!, $n: Int!) { setTeamCoverageMinimum(teamId: $t, minimum: $n) { id minimumContactable } }`;
const SET_DISABLED = `mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { id } }`;
const TEAMS = `{ teams { id minimumContactable members { id contactable } } }`;

const setContactable = (actor: Person, person: Person, contactable: boolean) =>
  gql(env.server.url, SET_CONTACTABLE, { u: person.id, c: contactable }, actor.token);
const remove = (team: TeamRef, person: Person) => gql(env.server.url, REMOVE_MEMBER, { t: team.id, u: person.id }, env.world.admin.token);
const disable = (person: Person) => env.world.as(env.world.admin, SET_DISABLED, { u: person.id, d: true });

/** The team as an admin sees it: its minimum, and its members with their flag, by id. */
async function teamState(team: TeamRef): Promise<{ minimumContactable: number; members: { id: string; contactable: boolean }[] }> {
  const { teams } = await env.world.as(env.world.admin, TEAMS);
  const found = teams.find((t: { id: string }) => t.id === team.id);
  return { minimumContactable: found.minimumContactable, members: [...found.members].sort((a, b) => a.id.localeCompare(b.id)) };
}

const contactableOf = async (person: Person): Promise<boolean> => (await env.world.as(person, `{ me { contactable } }`)).me.contactable;

/** The audit events of `action`, newest first, as the admin finds them. */
const events = (action: string) => auditEvents(env.server.url, env.world.admin.token, { action });
const contactableChanges = async (person: Person) => (await events('CONTACTABLE_CHANGED')).filter((e) => e.subject?.id === person.id);

const refusal = (team: string, minimum: number, count: number) =>
  `Team "${team}" must keep at least ${minimum} contactable member${minimum === 1 ? '' : 's'}; it has ${count}. An admin may lower the minimum.`;

/** Contactable professionals named `${label} 1`, `${label} 2`, ... */
const professionals = async (label: string, n: number) => {
  const people: Person[] = [];
  for (let i = 1; i <= n; i++) people.push(await env.world.professional(`${label} ${i}`));
  return people;
};

/** The single error of a result that must have failed. */
function errorOf(result: Awaited<ReturnType<typeof gql>>) {
  expect(result.errors).toHaveLength(1);
  return { code: result.errors![0].extensions?.code, message: result.errors![0].message };
}

describe('an auto-CC team keeps its coverage minimum', () => {
  test('a new team keeps at least 2 contactable members', async () => {
    const { createTeam } = await env.world.as(env.world.admin, `mutation { createTeam(name: "Default Minimum", autoCc: true) { id minimumContactable } }`);
    expect(createTeam.minimumContactable).toBe(2);
    expect((await teamState(createTeam)).minimumContactable).toBe(2);
  });

  test('a member marking themself not contactable is refused when the team would go below, with the reason, and nothing changes', async () => {
    const [a, b] = await professionals('Self', 2);
    const team = await env.world.team('Diabetes', { autoCc: true, members: [a, b] });
    const before = await teamState(team);

    expect(errorOf(await setContactable(a, a, false))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Diabetes', 2, 2) });
    expect(await contactableOf(a)).toBe(true);
    expect(await teamState(team)).toEqual(before);
    expect(await contactableChanges(a)).toEqual([]);
  });

  test('an admin marking a member not contactable is refused likewise', async () => {
    const [a, b] = await professionals('By Admin', 2);
    await env.world.team('By Admin Team', { autoCc: true, members: [a, b] });

    expect(errorOf(await setContactable(env.world.admin, b, false))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('By Admin Team', 2, 2) });
    expect(await contactableOf(b)).toBe(true);
    expect(await contactableChanges(b)).toEqual([]);
  });

  test('removing a contactable member is refused when the team would go below, and the membership stays', async () => {
    const [a, b] = await professionals('Removal', 2);
    const team = await env.world.team('Removal Team', { autoCc: true, members: [a, b] });
    const before = await teamState(team);

    expect(errorOf(await remove(team, a))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Removal Team', 2, 2) });
    expect(await teamState(team)).toEqual(before);
    expect((await events('TEAM_MEMBER_REMOVED')).filter((e) => e.team?.id === team.id)).toEqual([]);
  });

  test('a decrease is refused even when the team is already below its minimum', async () => {
    const [only] = await professionals('Alone', 1);
    const team = await env.world.team('Alone Team', { autoCc: true, members: [only] });
    expect(errorOf(await setContactable(only, only, false))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Alone Team', 2, 1) });
    expect(errorOf(await remove(team, only))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Alone Team', 2, 1) });
    expect(await contactableOf(only)).toBe(true);
  });

  test('changes that keep the team at or above its minimum are allowed', async () => {
    const [a, b, c] = await professionals('Three', 3);
    await env.world.team('Three Team', { autoCc: true, members: [a, b, c] });
    expect((await setContactable(a, a, false)).errors).toBeUndefined();
    expect(await contactableOf(a)).toBe(false);
    expect(errorOf(await setContactable(b, b, false))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Three Team', 2, 2) });

    const [d, e, f] = await professionals('Three More', 3);
    const other = await env.world.team('Three More Team', { autoCc: true, members: [d, e, f] });
    expect((await remove(other, d)).errors).toBeUndefined();
    expect((await teamState(other)).members.map((m) => m.id)).toEqual([e.id, f.id].sort());
    expect(errorOf(await remove(other, e))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Three More Team', 2, 2) });
  });

  test('after an admin lowers the minimum the same changes are allowed', async () => {
    const [a, b] = await professionals('Lowered', 2);
    const team = await env.world.team('Lowered Team', { autoCc: true, members: [a, b] });
    await env.world.setCoverageMinimum(team, 1);
    expect((await setContactable(a, a, false)).errors).toBeUndefined();
    expect(errorOf(await setContactable(b, b, false))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Lowered Team', 1, 1) });
    await env.world.setCoverageMinimum(team, 0);
    expect((await remove(team, b)).errors).toBeUndefined();
    expect(await teamState(team)).toEqual({ minimumContactable: 0, members: [{ id: a.id, contactable: false }] });
  });

  test('every auto-CC team of the member is checked, and the refusal names each team that would go below', async () => {
    const [a, b, c] = await professionals('Both', 3);
    const roomy = await env.world.team('Both Roomy', { autoCc: true, members: [a, b, c] });
    const tight = await env.world.team('Both Tight', { autoCc: true, members: [a, b] });
    expect(errorOf(await setContactable(a, a, false))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Both Tight', 2, 2) });
    const tighter = await env.world.team('Both Tighter', { autoCc: true, members: [a] });
    const { message } = errorOf(await setContactable(a, a, false));
    expect(message).toContain('Team "Both Tight" must keep at least 2 contactable members; it has 2');
    expect(message).toContain('Team "Both Tighter" must keep at least 2 contactable members; it has 1');
    expect(message).not.toContain('Both Roomy');
    expect(message).toMatch(/An admin may lower the minimum\.$/);
    expect(await contactableOf(a)).toBe(true);
    // Removal from the roomy team concerns that team only.
    expect((await remove(roomy, a)).errors).toBeUndefined();
    expect((await teamState(tight)).members).toHaveLength(2);
    expect((await teamState(tighter)).members).toHaveLength(1);
  });

  test('teams without auto-CC are not constrained', async () => {
    const [a, b] = await professionals('Plain', 2);
    const team = await env.world.team('Plain Team', { autoCc: false, members: [a, b] });
    expect((await setContactable(a, a, false)).errors).toBeUndefined();
    expect((await remove(team, b)).errors).toBeUndefined();
    expect(await teamState(team)).toEqual({ minimumContactable: 2, members: [{ id: a.id, contactable: false }] });
  });

  test('members who do not count (not contactable, disabled) may be removed or marked not contactable', async () => {
    const [a, b, gone] = await professionals('Counted', 3);
    const quiet = await env.world.professional('Counted Quiet', { contactable: false });
    const team = await env.world.team('Counted Team', { autoCc: true, members: [a, b, quiet, gone] });
    expect((await remove(team, quiet)).errors).toBeUndefined();
    await disable(gone);
    expect((await setContactable(env.world.admin, gone, false)).errors).toBeUndefined();
    expect((await remove(team, gone)).errors).toBeUndefined();
    expect((await teamState(team)).members.map((m) => m.id)).toEqual([a.id, b.id].sort());
  });

  test('disabling an account is a security action and is never refused; the team then counts one fewer', async () => {
    const [a, b] = await professionals('Disabled', 2);
    await env.world.team('Disabled Team', { autoCc: true, members: [a, b] });
    await disable(a);
    expect(errorOf(await setContactable(b, b, false))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Disabled Team', 2, 1) });
  });

  test('building a team up is never refused: adding members, marking them contactable, turning auto-CC on', async () => {
    const quiet = await env.world.professional('Build Quiet', { contactable: false });
    const team = await env.world.team('Build Team', { autoCc: false, members: [quiet] });
    await env.world.setAutoCc(team, true);
    const [a] = await professionals('Build', 1);
    await env.world.as(env.world.admin, ADD_MEMBER, { t: team.id, u: a.id });
    expect((await setContactable(quiet, quiet, true)).errors).toBeUndefined();
    expect((await teamState(team)).members.every((m) => m.contactable)).toBe(true);
  });

  test('two members going non-contactable at once cannot both pass the check', async () => {
    for (let round = 0; round < 5; round++) {
      const people = await professionals(`Race ${round}`, 3);
      const team = await env.world.team(`Race Team ${round}`, { autoCc: true, members: people });
      const results = await Promise.all([
        setContactable(people[0], people[0], false),
        setContactable(people[1], people[1], false),
        remove(team, people[2]),
      ]);
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      for (const refused of results.filter((r) => r.errors)) expect(errorOf(refused)).toEqual({ code: 'BAD_USER_INPUT', message: refusal(`Race Team ${round}`, 2, 2) });
      expect((await teamState(team)).members.filter((m) => m.contactable)).toHaveLength(2);
    }
  });
});

describe('setTeamCoverageMinimum', () => {
  test('admins only: a professional and a patient get FORBIDDEN, even a member of the team, and nothing changes', async () => {
    const [member] = await professionals('Forbidden Minimum', 1);
    const pat = await env.world.patient('Forbidden Minimum Pat');
    const team = await env.world.team('Forbidden Minimum Team', { autoCc: true, members: [member] });
    for (const caller of [member, pat]) {
      expect(await codes(env.server.url, SET_MINIMUM, { t: team.id, n: 0 }, caller.token)).toEqual(['FORBIDDEN']);
    }
    expect((await teamState(team)).minimumContactable).toBe(2);
  });

  test('a minimum outside 0..100 is BAD_USER_INPUT and changes nothing; 0 and 100 are accepted', async () => {
    const team = await env.world.team('Range Team', { autoCc: true });
    for (const n of [-1, 101]) {
      const error = await failure(env.server.url, SET_MINIMUM, { t: team.id, n }, env.world.admin.token);
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message).toMatch(/0 to 100/);
      expect((await teamState(team)).minimumContactable).toBe(2);
    }
    for (const n of [0, 100]) {
      expect((await env.world.as(env.world.admin, SET_MINIMUM, { t: team.id, n })).setTeamCoverageMinimum).toEqual({ id: team.id, minimumContactable: n });
      expect((await teamState(team)).minimumContactable).toBe(n);
    }
  });

  test('an unknown team is NOT_FOUND', async () => {
    expect(await codes(env.server.url, SET_MINIMUM, { t: '00000000-0000-4000-8000-000000000000', n: 1 }, env.world.admin.token)).toEqual(['NOT_FOUND']);
  });

  test('may be raised above the current count; it then refuses any further decrease', async () => {
    const [a, b, c] = await professionals('Raised', 3);
    const team = await env.world.team('Raised Team', { autoCc: true, members: [a, b, c] });
    await env.world.setCoverageMinimum(team, 5);
    expect(errorOf(await setContactable(a, a, false))).toEqual({ code: 'BAD_USER_INPUT', message: refusal('Raised Team', 5, 3) });
  });

  test('recorded as TEAM_COVERAGE_MINIMUM_CHANGED naming the admin and the team, only when the value changes', async () => {
    const team = await env.world.team('Audited Minimum', { autoCc: true });
    const second = await env.world.professional('Second Minimum Admin', { isAdmin: true, contactable: false });
    const changes = async () => (await events('TEAM_COVERAGE_MINIMUM_CHANGED')).filter((e) => e.team?.id === team.id).reverse();
    await env.world.setCoverageMinimum(team, 2); // the default: no change
    expect(await changes()).toEqual([]);
    await env.world.setCoverageMinimum(team, 3);
    await env.world.as(second, SET_MINIMUM, { t: team.id, n: 3 });
    await env.world.as(second, SET_MINIMUM, { t: team.id, n: 1 });
    expect((await changes()).map((e) => ({ actor: e.actor.id, outcome: e.outcome, subject: e.subject, threadId: e.threadId }))).toEqual([
      { actor: env.world.admin.id, outcome: 'SUCCESS', subject: null, threadId: null },
      { actor: second.id, outcome: 'SUCCESS', subject: null, threadId: null },
    ]);
  });
});

describe('reachCount in the recipient drop-down', () => {
  const TEAM_OPTIONS = `query($t: ID) { recipients(threadId: $t, first: 100) { ... on TeamRecipient { team { id } members { id } reachCount } } }`;

  /** The option for `team` offered to `caller`: the members picking it would add, by id, and its reach count; null when not offered. */
  async function option(caller: Person, team: TeamRef, threadId?: string) {
    const { recipients } = await env.world.as(caller, TEAM_OPTIONS, { t: threadId ?? null });
    const found = recipients.find((r: { team?: { id: string } }) => r.team?.id === team.id);
    return found ? { members: found.members.map((m: { id: string }) => m.id).sort(), reachCount: found.reachCount } : null;
  }

  test('counts the contactable, enabled members other than the caller', async () => {
    const [a, b, gone, member] = await professionals('Reach', 4);
    const quiet = await env.world.professional('Reach Quiet', { contactable: false });
    const team = await env.world.team('Reach Team', { autoCc: true, members: [a, b, gone, member, quiet] });
    await disable(gone);
    const outsider = await env.world.professional('Reach Outsider');
    const pat = await env.world.patient('Reach Pat');
    await env.world.share(pat, team);

    expect(await option(outsider, team)).toEqual({ members: [a.id, b.id, member.id].sort(), reachCount: 3 });
    expect(await option(pat, team)).toEqual({ members: [a.id, b.id, member.id].sort(), reachCount: 3 });
    // A member is offered their own team: it reaches the others.
    expect(await option(member, team)).toEqual({ members: [a.id, b.id].sort(), reachCount: 2 });
  });

  test('with threadId, members already in the thread are counted, although picking the team would not add them again', async () => {
    const [a, b] = await professionals('Thread Reach', 2);
    const team = await env.world.team('Thread Reach Team', { autoCc: true, members: [a, b] });
    const pat = await env.world.patient('Thread Reach Pat');
    await env.world.share(pat, team);
    const threadId = await env.world.thread(pat, [asRecipient(team)]);
    const [late] = await professionals('Thread Reach Late', 1);
    // Joining the team joined the open thread too; out of it again, the team would add them.
    await env.world.addMember(team, late);
    await env.world.leave(late, threadId);

    expect(await option(pat, team)).toEqual({ members: [a.id, b.id, late.id].sort(), reachCount: 3 });
    expect(await option(pat, team, threadId)).toEqual({ members: [late.id], reachCount: 3 });
    expect(await option(a, team, threadId)).toEqual({ members: [late.id], reachCount: 2 });
  });
});
