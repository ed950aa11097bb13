import type { GraphQLFormattedError } from 'graphql';
import { failure, gql, ok } from './support/graphql';
import { offered, recipientOptions } from './support/recipients';
import { startTestServer, type TestServer } from './support/server';
import { asRecipient, World, type Person } from './support/world';

// A fresh server (and in-memory database) per test costs ~20 ms and lets every
// test assert the whole drop-down rather than a slice of a shared one.
let server: TestServer;
let world: World;
beforeEach(async () => {
  server = await startTestServer();
  world = await World.create(server);
});
afterEach(() => server.close());

/** One entry of `recipients`, as a client might send it (even a malformed one). */
type RecipientPick = { teamId?: string | null; userId?: string | null };
/** Valid picks, to start a thread with. */
type StartPicks = Parameters<World['thread']>[1];
type Via = 'createThread' | 'addParticipants';
const VIAS: Via[] = ['createThread', 'addParticipants'];

const CREATE_THREAD = `mutation($s: String!, $b: String!, $r: [RecipientInput!]!) {
  createThread(subject: $s, body: $b, recipients: $r) { id }
}`;
const ADD_PARTICIPANTS = `mutation($t: ID!, $r: [RecipientInput!]!) { addParticipants(threadId: $t, recipients: $r) { id } }`;
const THREAD_STATE = `query($t: ID!) {
  thread(id: $t) {
    participants { user { name } addedBy { name } viaTeam { name } }
    teams { name }
  }
  auditTrail(threadId: $t) { action subject { name } }
}`;

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** The ids of the caller's threads. */
async function threadIds(person: Person): Promise<string[]> {
  const { threads } = await world.as(person, `{ threads(first: 100) { edges { node { id } } } }`);
  return threads.edges.map((e: { node: { id: string } }) => e.node.id);
}

/** Audit actions that record reading, which every look at the state adds. */
const READS = ['THREAD_READ', 'AUDIT_TRAIL_READ'];

/** Participants (with how they came), picked teams and the changes in the audit trail of a thread, as one participant sees them. */
async function threadState(person: Person, threadId: string) {
  const state = await world.as(person, THREAD_STATE, { t: threadId });
  return { ...state, auditTrail: state.auditTrail.filter((e: { action: string }) => !READS.includes(e.action)) };
}

function addParticipants(person: Person, threadId: string, picks: RecipientPick[]) {
  return ok(server.url, ADD_PARTICIPANTS, { t: threadId, r: picks }, person.token);
}

/**
 * Picks `picks` as `caller` through `via` and returns the single error, after
 * checking that nothing changed: for createThread the caller's thread list, for
 * addParticipants (the thread and its audit trail) a thread the caller first
 * started with `start`.
 */
async function refusal(via: Via, caller: Person, picks: RecipientPick[], start: StartPicks = []): Promise<GraphQLFormattedError> {
  if (via === 'createThread') {
    const before = await threadIds(caller);
    const error = await failure(server.url, CREATE_THREAD, { s: 'Subject', b: 'Body', r: picks }, caller.token);
    expect(await threadIds(caller)).toEqual(before);
    return error;
  }
  const threadId = await world.thread(caller, start);
  const before = await threadState(caller, threadId);
  const error = await failure(server.url, ADD_PARTICIPANTS, { t: threadId, r: picks }, caller.token);
  expect(await threadState(caller, threadId)).toEqual(before);
  return error;
}

function expectBadInput(error: GraphQLFormattedError, ...says: string[]) {
  expect(error.extensions?.code).toBe('BAD_USER_INPUT');
  for (const part of says) expect(error.message).toContain(part);
}

describe('the recipient drop-down', () => {
  test('an auto-CC team appears as one TeamRecipient whose members are its contactable members', async () => {
    const caller = await world.professional('Caller');
    const [ann, bob] = [await world.professional('Ann'), await world.professional('Bob')];
    const off = await world.professional('Off Duty', { contactable: false });
    const team = await world.team('Cardiology', { autoCc: true, members: [bob, ann, off] });

    const options = await recipientOptions(world, caller);
    const teamOptions = options.filter((o) => o.__typename === 'TeamRecipient');
    expect(teamOptions).toHaveLength(1);
    expect(teamOptions[0]).toMatchObject({ team: { id: team.id, name: 'Cardiology', autoCc: true } });
    expect(await offered(world, caller)).toEqual({ teams: [{ name: 'Cardiology', members: ['Ann', 'Bob'] }], users: [] });
  });

  test("an option's team and its members answer every field, those read through another column too (their organisation)", async () => {
    const caller = await world.professional('Caller Of Organisations');
    const member = await world.professional('Organisation Member');
    await world.team('Organisation Ward', { autoCc: true, members: [member] });
    const { organisation } = (await world.as(caller, '{ me { organisation { id name } } }')).me;
    const { recipients } = await world.as(
      caller,
      `{ recipients(search: "Organisation") { ... on TeamRecipient { team { name organisation { id name } } members { name organisation { id } } } } }`,
    );
    expect(recipients).toEqual([{ team: { name: 'Organisation Ward', organisation }, members: [{ name: 'Organisation Member', organisation: { id: organisation.id } }] }]);
  });

  test("an auto-CC team's members leave out the caller", async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    await world.team('Cardiology', { autoCc: true, members: [caller, ann] });

    expect(await offered(world, caller)).toEqual({ teams: [{ name: 'Cardiology', members: ['Ann'] }], users: [] });
  });

  test('an auto-CC team with no contactable member other than the caller is not offered', async () => {
    const caller = await world.professional('Caller');
    const off = await world.professional('Off Duty', { contactable: false });
    const colleague = await world.professional('Colleague');
    await world.team('Empty', { autoCc: true });
    await world.team('Nobody On Duty', { autoCc: true, members: [off] });
    await world.team('Just Me', { autoCc: true, members: [caller, off] });

    expect(await offered(world, caller)).toEqual({ teams: [], users: ['Colleague'] });
    expect(await offered(world, colleague)).toEqual({ teams: [{ name: 'Just Me', members: ['Caller'] }], users: [] });
  });

  test('a member of an auto-CC team is never offered individually', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const bob = await world.professional('Bob');
    await world.team('Cardiology', { autoCc: true, members: [ann] });
    // Also being in a team without auto-CC does not make Ann pickable on her own.
    await world.team('Ward 3', { members: [ann, bob] });
    const pat = await world.patient('Pat');
    await world.share(pat, ann);

    expect(await offered(world, caller)).toEqual({ teams: [{ name: 'Cardiology', members: ['Ann'] }], users: ['Bob'] });
    expect((await offered(world, caller, { search: 'Ann' })).users).toEqual([]);
    expect(await offered(world, pat)).toEqual({ teams: [], users: [] });
  });

  test.each(VIAS)('picking a member of an auto-CC team individually is refused with BAD_USER_INPUT naming the team (%s)', async (via) => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const bob = await world.professional('Bob');
    await world.team('Cardiology', { autoCc: true, members: [ann] });

    const error = await refusal(via, caller, [{ userId: ann.id }], [asRecipient(bob)]);
    expectBadInput(error, 'Ann', 'Cardiology', 'auto-CC');
  });

  test('teams without auto-CC are not offered; their members appear one by one', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const bob = await world.professional('Bob');
    await world.team('Ward 3', { members: [ann, bob] });

    expect(await offered(world, caller)).toEqual({ teams: [], users: ['Ann', 'Bob'] });
    const options = await recipientOptions(world, caller);
    expect(options.every((o) => o.__typename === 'UserRecipient')).toBe(true);
  });

  test('non-contactable professionals never appear', async () => {
    const caller = await world.professional('Caller');
    const on = await world.professional('On Duty');
    const off = await world.professional('Off Duty', { contactable: false });
    const offInTeam = await world.professional('Off In Ward', { contactable: false });
    await world.team('Ward 3', { members: [on, offInTeam] });
    const pat = await world.patient('Pat');
    await world.share(pat, off);
    await world.share(pat, on);

    // The start-up admin ("Administrator") is a non-contactable professional too.
    expect(await offered(world, caller)).toEqual({ teams: [], users: ['On Duty'] });
    expect(await offered(world, caller, { search: 'off' })).toEqual({ teams: [], users: [] });
    expect(await offered(world, pat)).toEqual({ teams: [], users: ['On Duty'] });

    // Switching the flag off takes a professional out of the drop-down at once.
    await world.setContactable(on, false);
    expect(await offered(world, caller)).toEqual({ teams: [], users: [] });
  });

  test('the caller never appears', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    await world.team('Ward 3', { members: [caller, ann] });
    const pat = await world.patient('Pat');
    await world.share(pat, caller);
    const other = await world.patient('Other');
    await world.share(other, ann);

    expect(await offered(world, caller)).toEqual({ teams: [], users: ['Ann', 'Pat'] });
    expect(await offered(world, caller, { search: 'Caller' })).toEqual({ teams: [], users: [] });
    expect(await offered(world, pat)).toEqual({ teams: [], users: ['Caller'] });
  });

  test('a patient is offered only their care network', async () => {
    const pat = await world.patient('Pat');
    const [ann, bob, cat, dan, eve, fay] = await Promise.all(['Ann', 'Bob', 'Cat', 'Dan', 'Eve', 'Fay'].map((n) => world.professional(n)));
    const diabetes = await world.team('Diabetes', { autoCc: true, members: [ann, bob] });
    const ward = await world.team('Ward 3', { members: [cat, dan] });
    await world.team('Cardiology', { autoCc: true, members: [eve] });
    await world.share(pat, diabetes);
    await world.share(pat, ward);
    await world.share(pat, fay);
    const otherPatient = await world.patient('Quinn');
    await world.share(otherPatient, fay);
    await world.professional('Stranger');

    expect(await offered(world, pat)).toEqual({
      teams: [{ name: 'Diabetes', members: ['Ann', 'Bob'] }],
      users: ['Cat', 'Dan', 'Fay'],
    });
  });

  test('a professional sees a patient only if the patient shared with them or one of their teams', async () => {
    const caller = await world.professional('Caller');
    const colleague = await world.professional('Colleague');
    const ward = await world.team('Ward 3', { members: [caller] });
    const diabetes = await world.team('Diabetes', { autoCc: true, members: [caller, colleague] });
    const [direct, viaWard, viaDiabetes, elsewhere] = await Promise.all(
      ['P Direct', 'P Via Ward', 'P Via Diabetes', 'P Elsewhere'].map((n) => world.patient(n)),
    );
    await world.patient('P Nobody');
    await world.share(direct, caller);
    await world.share(viaWard, ward);
    await world.share(viaDiabetes, diabetes);
    await world.share(elsewhere, colleague);

    expect(await offered(world, caller)).toEqual({
      teams: [{ name: 'Diabetes', members: ['Colleague'] }],
      users: ['P Direct', 'P Via Diabetes', 'P Via Ward'],
    });
    expect(await offered(world, colleague)).toEqual({
      teams: [{ name: 'Diabetes', members: ['Caller'] }],
      users: ['P Elsewhere', 'P Via Diabetes'],
    });
  });

  test('search matches user and team names case-insensitively', async () => {
    const caller = await world.professional('Caller');
    await world.professional('Anna Smith');
    await world.professional('Bob SMITHERS');
    await world.professional('Carl Jones');
    const dana = await world.professional('Dana Lee');
    await world.team('Smithfield Clinic', { autoCc: true, members: [dana] });
    await world.team('Blacksmith Ward', { autoCc: true, members: [await world.professional('Eli Wong')] });
    await world.team('Oncology', { autoCc: true, members: [await world.professional('Fay Ray')] });
    const pat = await world.patient('Pat Goldsmith');
    await world.share(pat, caller);

    const expected = {
      teams: [
        { name: 'Blacksmith Ward', members: ['Eli Wong'] },
        { name: 'Smithfield Clinic', members: ['Dana Lee'] },
      ],
      users: ['Anna Smith', 'Bob SMITHERS', 'Pat Goldsmith'],
    };
    expect(await offered(world, caller, { search: 'sMiTh' })).toEqual(expected);
    expect(await offered(world, caller, { search: 'SMITH' })).toEqual(expected);
    expect(await offered(world, caller, { search: 'nobody-by-this-name' })).toEqual({ teams: [], users: [] });
  });

  test("search offers an auto-CC team by its own name or by a member picking it would add, with every member it would add", async () => {
    const caller = await world.professional('Caller Harlow');
    const quinn = await world.professional('Quinn Harlow');
    const rita = await world.professional('Rita Vance');
    await world.team('Cardiology', { autoCc: true, members: [quinn, rita] });
    await world.team('Harlow House', { autoCc: true, members: [await world.professional('Sam Pike')] });
    // Members who match but whom picking the team would not add: not contactable, the caller, a participant.
    await world.team('Dermatology', { autoCc: true, members: [await world.professional('Tess Harlowe', { contactable: false }), await world.professional('Uma Reyes')] });
    await world.team('Neurology', { autoCc: true, members: [caller, await world.professional('Vic Stone')] });
    const wes = await world.professional('Wes Harlow');
    await world.team('Oncology', { autoCc: true, members: [wes, await world.professional('Xena Moss')] });
    const radiology = await world.team('Radiology', { autoCc: true, members: [wes, await world.professional('Zed Cole')] });
    // A team without auto-CC is never offered, whoever of it matches; its matching member is, on their own.
    await world.team('Plain Ward', { members: [await world.professional('Yves Harlow')] });

    expect(await offered(world, caller, { search: 'harlow' })).toEqual({
      teams: [
        { name: 'Cardiology', members: ['Quinn Harlow', 'Rita Vance'] },
        { name: 'Harlow House', members: ['Sam Pike'] },
        { name: 'Oncology', members: ['Wes Harlow', 'Xena Moss'] },
        { name: 'Radiology', members: ['Wes Harlow', 'Zed Cole'] },
      ],
      users: ['Yves Harlow'],
    });
    // In a thread Wes is already in (through Radiology), Oncology would add only Xena, who does not match.
    const threadId = await world.thread(caller, [{ teamId: radiology.id }]);
    expect(await offered(world, caller, { search: 'harlow', threadId })).toEqual({
      teams: [
        { name: 'Cardiology', members: ['Quinn Harlow', 'Rita Vance'] },
        { name: 'Harlow House', members: ['Sam Pike'] },
      ],
      users: ['Yves Harlow'],
    });
  });

  test('search is case-insensitive for names with accents too', async () => {
    const caller = await world.professional('Caller');
    await world.professional('Élodie Durand');
    await world.professional('Zoë Ångström');
    await world.team('Équipe Soins', { autoCc: true, members: [await world.professional('Kim')] });

    expect(await offered(world, caller, { search: 'élodie' })).toEqual({ teams: [], users: ['Élodie Durand'] });
    expect(await offered(world, caller, { search: 'ZOË ÅNG' })).toEqual({ teams: [], users: ['Zoë Ångström'] });
    expect(await offered(world, caller, { search: 'équipe' })).toEqual({ teams: [{ name: 'Équipe Soins', members: ['Kim'] }], users: [] });
  });

  test('search ignores accents and letter case: "Zoe" finds "Zoë", "elodie" finds "Élodie", "ZOE" finds both Zoes', async () => {
    const caller = await world.professional('Caller');
    await world.professional('Élodie Durand');
    await world.professional('Zoë Ångström');
    await world.professional('Zoe Adams');
    await world.team('Équipe Soins', { autoCc: true, members: [await world.professional('Kim')] });

    expect((await offered(world, caller, { search: 'Zoe' })).users).toEqual(['Zoe Adams', 'Zoë Ångström']);
    expect((await offered(world, caller, { search: 'ZOE' })).users).toEqual(['Zoe Adams', 'Zoë Ångström']);
    expect((await offered(world, caller, { search: 'zoë' })).users).toEqual(['Zoe Adams', 'Zoë Ångström']);
    expect((await offered(world, caller, { search: 'angstrom' })).users).toEqual(['Zoë Ångström']);
    expect(await offered(world, caller, { search: 'elodie' })).toEqual({ teams: [], users: ['Élodie Durand'] });
    expect(await offered(world, caller, { search: 'EQUIPE' })).toEqual({ teams: [{ name: 'Équipe Soins', members: ['Kim'] }], users: [] });
  });

  test('search treats % and _ as plain characters', async () => {
    const caller = await world.professional('Caller');
    await world.professional('Ann 100% Sure');
    await world.professional('Bob_Underscore');
    await world.professional('Cat X');

    expect((await offered(world, caller, { search: '%' })).users).toEqual(['Ann 100% Sure']);
    expect((await offered(world, caller, { search: '_' })).users).toEqual(['Bob_Underscore']);
  });

  test('with threadId current participants are left out', async () => {
    const caller = await world.professional('Caller');
    const [ann, bob, cat] = await Promise.all(['Ann', 'Bob', 'Cat'].map((n) => world.professional(n)));
    await Promise.all(['Dan', 'Eve'].map((n) => world.professional(n)));
    const cardiology = await world.team('Cardiology', { members: [ann, bob] });
    const renal = await world.team('Renal', { autoCc: true, members: [cat] });
    const pat = await world.patient('Pat');
    await world.share(pat, caller);
    const threadId = await world.thread(caller, [asRecipient(ann), asRecipient(renal), asRecipient(pat)]);
    // Ann joined on her own before Cardiology turned auto-CC on; picking the team now would add only Bob.
    await world.setAutoCc(cardiology, true);

    expect(await offered(world, caller, { threadId })).toEqual({ teams: [{ name: 'Cardiology', members: ['Bob'] }], users: ['Dan', 'Eve'] });
    // Without threadId the same caller is offered everyone the rules allow.
    expect(await offered(world, caller)).toEqual({
      teams: [
        { name: 'Cardiology', members: ['Ann', 'Bob'] },
        { name: 'Renal', members: ['Cat'] },
      ],
      users: ['Dan', 'Eve', 'Pat'],
    });
  });

  test('with threadId the caller must be a participant (NOT_FOUND)', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const outsider = await world.professional('Outsider');
    const threadId = await world.thread(caller, [asRecipient(ann)]);
    const ask = (person: Person, id: string) => failure(server.url, `query($t: ID) { recipients(threadId: $t) { __typename } }`, { t: id }, person.token);

    expect((await ask(outsider, threadId)).extensions?.code).toBe('NOT_FOUND');
    expect((await ask(caller, UNKNOWN_ID)).extensions?.code).toBe('NOT_FOUND');
    expect((await ask(caller, 'not-an-id')).extensions?.code).toBe('NOT_FOUND');
    await world.leave(ann, threadId);
    expect((await ask(ann, threadId)).extensions?.code).toBe('NOT_FOUND');
    // The participant who stayed still gets the drop-down for the thread.
    expect(await offered(world, caller, { threadId })).toEqual({ teams: [], users: ['Ann', 'Outsider'] });
  });

  test.each(VIAS)('a team with no contactable member is not offered and picking it is refused (%s)', async (via) => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const off = await world.professional('Off Duty', { contactable: false });
    const nobodyOnDuty = await world.team('Nobody On Duty', { autoCc: true, members: [off] });
    const empty = await world.team('Empty Team', { autoCc: true });

    expect((await offered(world, caller)).teams).toEqual([]);
    expectBadInput(await refusal(via, caller, [asRecipient(nobodyOnDuty)], [asRecipient(ann)]), 'Nobody On Duty', 'no contactable member');
    expectBadInput(await refusal(via, caller, [asRecipient(empty)], [asRecipient(ann)]), 'Empty Team', 'no contactable member');
  });

  test('picking someone already a participant changes nothing and is not an error', async () => {
    const caller = await world.professional('Caller');
    const [ann, bob] = [await world.professional('Ann'), await world.professional('Bob')];
    const cardiology = await world.team('Cardiology', { members: [bob] });
    const threadId = await world.thread(caller, [asRecipient(ann), asRecipient(bob)]);
    // Bob is now a member of an auto-CC team and Ann is no longer contactable: neither is pickable, yet both are participants.
    await world.setAutoCc(cardiology, true);
    await world.setContactable(ann, false);
    const before = await threadState(caller, threadId);

    await addParticipants(caller, threadId, [asRecipient(ann)]);
    await addParticipants(caller, threadId, [asRecipient(bob), asRecipient(ann), asRecipient(ann)]);

    expect(await threadState(caller, threadId)).toEqual(before);
    expect(before.thread.participants).toHaveLength(3);
  });

  test('picking a team whose members all are participants changes nothing', async () => {
    const caller = await world.professional('Caller');
    const [ann, bob] = [await world.professional('Ann'), await world.professional('Bob')];
    const cardiology = await world.team('Cardiology', { autoCc: true, members: [ann, bob, caller] });
    const dan = await world.professional('Dan');
    const ward = await world.team('Ward 3', { members: [dan] });
    const threadId = await world.thread(caller, [asRecipient(cardiology)]);
    const before = await threadState(caller, threadId);

    await addParticipants(caller, threadId, [asRecipient(cardiology)]);
    expect(await threadState(caller, threadId)).toEqual(before);
    expect(before.thread.teams).toEqual([{ name: 'Cardiology' }]);

    // A team that joined auto-CC after its members were added is no different.
    const other = await world.thread(caller, [asRecipient(await world.professional('Cat'))]);
    await addParticipants(caller, other, [asRecipient(dan)]);
    await world.setAutoCc(ward, true);
    const otherBefore = await threadState(caller, other);
    await addParticipants(caller, other, [asRecipient(ward)]);
    expect(await threadState(caller, other)).toEqual(otherBefore);

    // Nor is a team whose only contactable member is the caller, who is a participant already.
    const justMe = await world.team('Just Me', { autoCc: true, members: [caller] });
    await addParticipants(caller, other, [asRecipient(justMe)]);
    expect(await threadState(caller, other)).toEqual(otherBefore);
    // Starting a thread with it would add nobody, so that is refused.
    expectBadInput(await refusal('createThread', caller, [asRecipient(justMe)]), 'Just Me', 'no contactable member other than you');
  });

  test('picking a team adds its contactable members who are not yet participants, through the team', async () => {
    const caller = await world.professional('Caller');
    const [ann, bob] = [await world.professional('Ann'), await world.professional('Bob')];
    const off = await world.professional('Off Duty', { contactable: false });
    const cardiology = await world.team('Cardiology', { members: [ann, bob, off] });
    const threadId = await world.thread(caller, [asRecipient(ann)]);
    await world.setAutoCc(cardiology, true);

    await addParticipants(caller, threadId, [asRecipient(cardiology)]);
    const { thread } = await threadState(caller, threadId);
    const byUserName = (a: { user: { name: string } }, b: { user: { name: string } }) => a.user.name.localeCompare(b.user.name);
    expect([...thread.participants].sort(byUserName)).toEqual([
      { user: { name: 'Ann' }, addedBy: { name: 'Caller' }, viaTeam: null },
      { user: { name: 'Bob' }, addedBy: { name: 'Caller' }, viaTeam: { name: 'Cardiology' } },
      { user: { name: 'Caller' }, addedBy: null, viaTeam: null },
    ]);
    expect(thread.teams).toEqual([{ name: 'Cardiology' }]);
  });

  test('teams lists every team to professionals and only care-network teams to a patient', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const diabetes = await world.team('Diabetes', { autoCc: true, members: [ann] });
    const ward = await world.team('Ward 3', { members: [ann] });
    await world.team('Cardiology', { autoCc: true, members: [ann] });
    await world.team('Empty Team');
    const pat = await world.patient('Pat');
    const loner = await world.patient('Loner');
    await world.share(pat, diabetes);
    await world.share(pat, ward);
    // Sharing with a professional brings that person, not their teams, into the network.
    await world.share(loner, ann);
    const teamNames = async (person: Person) =>
      (await world.as(person, `{ teams { name } }`)).teams.map((t: { name: string }) => t.name);

    expect(await teamNames(caller)).toEqual(['Cardiology', 'Diabetes', 'Empty Team', 'Ward 3']);
    expect(await teamNames(pat)).toEqual(['Diabetes', 'Ward 3']);
    expect(await teamNames(loner)).toEqual([]);
  });
});

describe.each(VIAS)('%s refuses what the drop-down would not offer, says why, and changes nothing', (via) => {
  test('someone outside a patient\'s care network', async () => {
    const pat = await world.patient('Pat');
    const fay = await world.professional('Fay');
    const stranger = await world.professional('Stranger');
    const cardiology = await world.team('Cardiology', { autoCc: true, members: [await world.professional('Eve')] });
    const otherPatient = await world.patient('Quinn');
    await world.share(pat, fay);
    await world.share(otherPatient, fay);

    expectBadInput(await refusal(via, pat, [asRecipient(stranger)], [asRecipient(fay)]), 'Stranger', 'outside your care network');
    expectBadInput(await refusal(via, pat, [asRecipient(cardiology)], [asRecipient(fay)]), 'Cardiology', 'outside your care network');
    expectBadInput(await refusal(via, pat, [asRecipient(otherPatient)], [asRecipient(fay)]), 'Quinn', 'outside your care network');
  });

  test('a patient who has not shared their record with the professional or their teams', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const pat = await world.patient('Pat');
    await world.share(pat, ann);

    expectBadInput(await refusal(via, caller, [asRecipient(pat)], [asRecipient(ann)]), 'Pat', 'has not shared');
  });

  test('a professional who is not contactable', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const off = await world.professional('Off Duty', { contactable: false });

    expectBadInput(await refusal(via, caller, [asRecipient(off)], [asRecipient(ann)]), 'Off Duty', 'not contactable');
    expectBadInput(await refusal(via, caller, [{ userId: world.admin.id }], [asRecipient(ann)]), 'Administrator', 'not contactable');
  });

  test('the caller themself', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const pat = await world.patient('Pat');
    await world.share(pat, ann);

    expectBadInput(await refusal(via, caller, [asRecipient(caller)], [asRecipient(ann)]), 'yourself');
    expectBadInput(await refusal(via, pat, [asRecipient(pat)], [asRecipient(ann)]), 'yourself');
  });

  test('a team without auto-CC picked as a team', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const ward = await world.team('Ward 3', { members: [ann] });

    expectBadInput(await refusal(via, caller, [asRecipient(ward)], [asRecipient(ann)]), 'Ward 3', 'not an auto-CC team');
  });

  test('an unknown id', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');

    for (const pick of [{ userId: UNKNOWN_ID }, { teamId: UNKNOWN_ID }, { userId: 'not-an-id' }, { teamId: 'not-an-id' }, { userId: '' }, { teamId: '' }]) {
      expectBadInput(await refusal(via, caller, [pick], [asRecipient(ann)]), 'Unknown recipient');
    }
  });

  test('a pick with both or neither of teamId and userId', async () => {
    const caller = await world.professional('Caller');
    const ann = await world.professional('Ann');
    const cardiology = await world.team('Cardiology', { autoCc: true, members: [await world.professional('Bob')] });

    for (const pick of [{ teamId: cardiology.id, userId: ann.id }, {}]) {
      expectBadInput(await refusal(via, caller, [pick], [asRecipient(ann)]), 'Exactly one key must be specified for OneOf type "RecipientInput"');
    }
  });

  test('one refused pick among good ones refuses the whole request, naming every reason', async () => {
    const caller = await world.professional('Caller');
    const [ann, bob] = [await world.professional('Ann'), await world.professional('Bob')];
    const off = await world.professional('Off Duty', { contactable: false });
    const cardiology = await world.team('Cardiology', { autoCc: true, members: [await world.professional('Cat')] });
    const dan = await world.professional('Dan');
    await world.team('Renal', { autoCc: true, members: [dan] });

    const error = await refusal(via, caller, [asRecipient(bob), asRecipient(cardiology), asRecipient(off), asRecipient(dan)], [asRecipient(ann)]);
    expectBadInput(error, 'Off Duty', 'not contactable', 'Dan', 'Renal');
    expect(error.message).not.toContain('Bob');
  });
});

describe('the offer and the refusal agree', () => {
  /**
   * Every user and team of a clinic with one of each case, picked alone through createThread by a
   * professional and by a patient: a pick succeeds exactly when the drop-down offers it.
   */
  test('for every user and team, as a professional and as a patient', async () => {
    const pro = await world.professional('Caller Pro');
    const pat = await world.patient('Caller Pat');
    const plain = await world.professional('Plain Pro');
    const off = await world.professional('Off Pro', { contactable: false });
    const gone = await world.professional('Gone Pro');
    const inAutoCc = await world.professional('AutoCc Member');
    const inWard = await world.professional('Ward Member');
    const sharedWith = await world.professional('Shared With');
    const inSharedTeam = await world.professional('Shared Team Member');
    const autoCc = await world.team('AutoCc Team', { autoCc: true, members: [inAutoCc] });
    const nobodyOnDuty = await world.team('Nobody On Duty', { autoCc: true, members: [off] });
    const justPro = await world.team('Just Pro', { autoCc: true, members: [pro] });
    const ward = await world.team('Ward', { members: [inWard, pro] });
    const sharedTeam = await world.team('Shared Team', { autoCc: true, members: [inSharedTeam] });
    const sharing = await world.patient('Sharing Patient');
    const sharingViaWard = await world.patient('Ward Patient');
    const stranger = await world.patient('Stranger Patient');
    await world.share(sharing, pro);
    await world.share(sharingViaWard, ward);
    await world.share(pat, sharedWith);
    await world.share(pat, sharedTeam);
    await world.share(pat, off);
    await world.as(world.admin, `mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }`, { u: gone.id });

    const users = [pro, pat, plain, off, gone, inAutoCc, inWard, sharedWith, inSharedTeam, sharing, sharingViaWard, stranger];
    const teams = [autoCc, nobodyOnDuty, justPro, ward, sharedTeam];
    for (const caller of [pro, pat]) {
      const offer = await recipientOptions(world, caller);
      const offeredIds = new Set(offer.map((o) => (o.__typename === 'TeamRecipient' ? o.team.id : o.user.id)));
      for (const pick of [...users.map(asRecipient), ...teams.map(asRecipient)]) {
        const id = ('userId' in pick ? pick.userId : pick.teamId) as string;
        const { errors } = await gql(server.url, CREATE_THREAD, { s: 'Subject', b: 'Body', r: [pick] }, caller.token);
        expect({ caller: caller.id, id, accepted: !errors }).toEqual({ caller: caller.id, id, accepted: offeredIds.has(id) });
      }
      // Each case is there for a reason: both sides say yes to something and no to something.
      expect(offeredIds.size).toBeGreaterThan(0);
      expect(offeredIds.size).toBeLessThan(users.length + teams.length);
    }
  });
});
