import { judgeTeam, judgeUser, type CareNetwork, type RecipientFacts } from '../../src/modules/recipients/recipient-policy';
import { Team } from '../../src/modules/teams/team.entity';
import { UserKind } from '../../src/modules/users/user-kind';
import { User } from '../../src/modules/users/user.entity';

// The drop-down rules (DESIGN.md, "The recipient drop-down") that decide both
// what `recipients` offers and which picks are refused, one user or team at a time.

const user = (name: string, over: Partial<User> = {}): User =>
  Object.assign(new User(), {
    id: name.toLowerCase().replace(/\W+/g, '-'),
    name,
    kind: UserKind.PROFESSIONAL,
    contactable: true,
    disabled: false,
    isAdmin: false,
    organisationId: 'org-a',
    ...over,
  });
const patient = (name: string, over: Partial<User> = {}) => user(name, { kind: UserKind.PATIENT, contactable: false, organisationId: null, ...over });
const team = (name: string, over: Partial<Team> = {}): Team => Object.assign(new Team(), { id: `team-${name.toLowerCase()}`, name, autoCc: true, organisationId: 'org-a', ...over });
const ids = (list: { id: string }[] = []) => new Set(list.map((x) => x.id));
const network = (of: { professionals?: User[]; teams?: Team[]; teamMembers?: User[] }): CareNetwork => ({
  professionalIds: ids(of.professionals),
  teamIds: ids(of.teams),
  teamMemberIds: ids(of.teamMembers),
});

/**
 * A professional caller: no care network of their own, sees the patients in `sharing`, knows of those in
 * `ofOrganisation` (who shared with someone of the caller's organisation: `sharing` too), and in a thread
 * may reach `threadNetwork` (what the thread's patients shared with) in other organisations.
 */
function professionalFacts(
  caller: User,
  options: { sharing?: User[]; ofOrganisation?: User[]; autoCc?: [User, Team[]][]; threadNetwork?: Parameters<typeof network>[0] } = {},
): RecipientFacts {
  return {
    caller,
    patientNetwork: null,
    threadNetwork: network(options.threadNetwork ?? {}),
    sharingPatientIds: ids(options.sharing),
    organisationPatientIds: ids([...(options.sharing ?? []), ...(options.ofOrganisation ?? [])]),
    autoCcTeamsOf: new Map((options.autoCc ?? []).map(([u, teams]) => [u.id, teams])),
  };
}

/** A patient caller who shared their record with `professionals` and `teams` (whose members are `teamMembers`). */
function patientFacts(caller: User, of: { professionals?: User[]; teams?: Team[]; teamMembers?: User[] }): RecipientFacts {
  return { caller, patientNetwork: network(of), threadNetwork: network({}), sharingPatientIds: new Set(), organisationPatientIds: new Set(), autoCcTeamsOf: new Map() };
}

const OK = { ok: true };
const refused = (reason: string) => ({ ok: false, reason });

describe('judgeUser: picking one person', () => {
  const doctor = user('Dr Ada');
  const colleague = user('Dr Bea');

  test('a contactable professional outside any auto-CC team is offered to a professional', () => {
    expect(judgeUser(professionalFacts(doctor), colleague)).toEqual(OK);
  });

  test('the caller never: "You cannot pick yourself", professional or patient', () => {
    expect(judgeUser(professionalFacts(doctor), doctor)).toEqual(refused('You cannot pick yourself'));
    const pat = patient('Pat');
    expect(judgeUser(patientFacts(pat, {}), pat)).toEqual(refused('You cannot pick yourself'));
  });

  test('a disabled account never, whoever it is', () => {
    expect(judgeUser(professionalFacts(doctor), user('Dr Gone', { disabled: true }))).toEqual(refused("Dr Gone's account is disabled"));
    const gonePatient = patient('Pat Gone', { disabled: true });
    expect(judgeUser(professionalFacts(doctor, { sharing: [gonePatient] }), gonePatient)).toEqual(refused("Pat Gone's account is disabled"));
  });

  test('a non-contactable professional never', () => {
    expect(judgeUser(professionalFacts(doctor), user('Dr Admin', { contactable: false, isAdmin: true }))).toEqual(refused('Dr Admin is not contactable by messages'));
  });

  test('a member of an auto-CC team never individually: the refusal names the team, or every such team', () => {
    const cardio = team('Cardiology');
    const night = team('Night Shift');
    expect(judgeUser(professionalFacts(doctor, { autoCc: [[colleague, [cardio]]] }), colleague)).toEqual(
      refused('Dr Bea is a member of the auto-CC team "Cardiology": pick the team instead'),
    );
    expect(judgeUser(professionalFacts(doctor, { autoCc: [[colleague, [cardio, night]]] }), colleague)).toEqual(
      refused('Dr Bea is a member of the auto-CC team "Cardiology", "Night Shift": pick the team instead'),
    );
    // Membership of no auto-CC team (an empty list) does not hide them.
    expect(judgeUser(professionalFacts(doctor, { autoCc: [[colleague, []]] }), colleague)).toEqual(OK);
  });

  test('a professional sees a patient only once the patient shared with them or one of their teams', () => {
    const shared = patient('Pat Shared');
    const other = patient('Pat Other');
    const facts = professionalFacts(doctor, { sharing: [shared], ofOrganisation: [other] });
    expect(judgeUser(facts, shared)).toEqual(OK);
    expect(judgeUser(facts, other)).toEqual(refused('Pat Other has not shared their record with you or your teams'));
  });

  describe('organisations: a professional knows of nobody outside theirs', () => {
    const foreign = user('Dr Elsewhere', { organisationId: 'org-b' });

    test('a professional of another organisation is an unknown recipient, however they are (nothing tells they exist)', () => {
      for (const someone of [foreign, user('Dr Gone Elsewhere', { organisationId: 'org-b', disabled: true }), user('Dr Quiet Elsewhere', { organisationId: 'org-b', contactable: false })]) {
        expect(judgeUser(professionalFacts(doctor), someone)).toEqual(refused('Unknown recipient'));
      }
    });

    test("a patient who shared with nobody of the caller's organisation is an unknown recipient", () => {
      const stranger = patient('Pat Stranger');
      expect(judgeUser(professionalFacts(doctor), stranger)).toEqual(refused('Unknown recipient'));
      expect(judgeUser(professionalFacts(doctor), patient('Pat Gone', { disabled: true }))).toEqual(refused('Unknown recipient'));
    });

    test("in a thread, whom its patients shared with is reached across organisations, by the same rules as the caller's own", () => {
      expect(judgeUser(professionalFacts(doctor, { threadNetwork: { professionals: [foreign] } }), foreign)).toEqual(OK);
      const member = user('Dr Member Elsewhere', { organisationId: 'org-b' });
      expect(judgeUser(professionalFacts(doctor, { threadNetwork: { teamMembers: [member] } }), member)).toEqual(OK);
      const quiet = user('Dr Quiet Elsewhere', { organisationId: 'org-b', contactable: false });
      expect(judgeUser(professionalFacts(doctor, { threadNetwork: { professionals: [quiet] } }), quiet)).toEqual(refused('Dr Quiet Elsewhere is not contactable by messages'));
      const cardio = team('Cardiology', { organisationId: 'org-b' });
      const inTeam = professionalFacts(doctor, { threadNetwork: { teamMembers: [member] }, autoCc: [[member, [cardio]]] });
      expect(judgeUser(inTeam, member)).toEqual(refused('Dr Member Elsewhere is a member of the auto-CC team "Cardiology": pick the team instead'));
    });

    test('a patient caller reaches their care network in any organisation', () => {
      expect(judgeUser(patientFacts(patient('Pat'), { professionals: [foreign] }), foreign)).toEqual(OK);
    });
  });

  describe('a patient caller: only their care network', () => {
    const pat = patient('Pat');
    const gp = user('Dr Gp');
    const teamMember = user('Dr Team');
    const stranger = user('Dr Stranger');
    const facts = patientFacts(pat, { professionals: [gp], teamMembers: [teamMember] });

    test('the professionals they shared with, and the members of the teams they shared with', () => {
      expect(judgeUser(facts, gp)).toEqual(OK);
      expect(judgeUser(facts, teamMember)).toEqual(OK);
    });

    test('any other professional is outside the care network', () => {
      expect(judgeUser(facts, stranger)).toEqual(refused('Dr Stranger is outside your care network'));
    });

    test('another patient is outside the care network, always', () => {
      expect(judgeUser(facts, patient('Pat Two'))).toEqual(refused('Pat Two is outside your care network'));
    });

    test('in the network, the other rules still hold: not contactable, a member of an auto-CC team', () => {
      const quiet = user('Dr Quiet', { contactable: false });
      expect(judgeUser(patientFacts(pat, { professionals: [quiet] }), quiet)).toEqual(refused('Dr Quiet is not contactable by messages'));
      const inTeam = { ...patientFacts(pat, { professionals: [gp] }), autoCcTeamsOf: new Map([[gp.id, [team('Renal')]]]) };
      expect(judgeUser(inTeam, gp)).toEqual(refused('Dr Gp is a member of the auto-CC team "Renal": pick the team instead'));
    });
  });
});

describe('judgeTeam: picking a team', () => {
  const doctor = user('Dr Ada');
  const b = user('Dr Bea');
  const c = user('Dr Cy');
  const quiet = user('Dr Quiet', { contactable: false });
  const disabled = user('Dr Gone', { disabled: true });
  const none = new Set<string>();

  test('an auto-CC team adds its contactable members other than the caller; non-contactable and disabled members are left out', () => {
    expect(judgeTeam(professionalFacts(doctor), team('Cardiology'), [doctor, b, c, quiet, disabled], none)).toEqual({ ok: true, members: [b, c], reachCount: 2 });
  });

  test('current participants are not added again, yet still counted as reached', () => {
    expect(judgeTeam(professionalFacts(doctor), team('Cardiology'), [doctor, b, c], new Set([b.id]))).toEqual({ ok: true, members: [c], reachCount: 2 });
  });

  test('a team whose members all are participants changes nothing and is not an error', () => {
    expect(judgeTeam(professionalFacts(doctor), team('Cardiology'), [b, c], new Set([b.id, c.id, doctor.id]))).toEqual({ ok: true, members: [], reachCount: 2 });
  });

  test("a team of another organisation is an unknown recipient, unless a patient of the thread shared with it; a patient's care network spans organisations", () => {
    const elsewhere = team('Elsewhere', { organisationId: 'org-b' });
    const member = user('Dr Member Elsewhere', { organisationId: 'org-b' });
    expect(judgeTeam(professionalFacts(doctor), elsewhere, [member], none)).toEqual(refused('Unknown recipient'));
    expect(judgeTeam(professionalFacts(doctor), team('Elsewhere off', { organisationId: 'org-b', autoCc: false }), [member], none)).toEqual(refused('Unknown recipient'));
    expect(judgeTeam(professionalFacts(doctor, { threadNetwork: { teams: [elsewhere] } }), elsewhere, [member], none)).toEqual({ ok: true, members: [member], reachCount: 1 });
    expect(judgeTeam(patientFacts(patient('Pat'), { teams: [elsewhere] }), elsewhere, [member], none)).toEqual({ ok: true, members: [member], reachCount: 1 });
  });

  test('a team without auto-CC is refused: its members are picked one by one', () => {
    expect(judgeTeam(professionalFacts(doctor), team('Admin', { autoCc: false }), [b], none)).toEqual(
      refused('Team "Admin" is not an auto-CC team: pick its members one by one'),
    );
  });

  test('a team with no contactable member is refused (disabled members count as not contactable)', () => {
    expect(judgeTeam(professionalFacts(doctor), team('Empty'), [], none)).toEqual(refused('Team "Empty" has no contactable member'));
    expect(judgeTeam(professionalFacts(doctor), team('Quiet'), [quiet, disabled], none)).toEqual(refused('Team "Quiet" has no contactable member'));
  });

  test('a team whose only contactable member is the caller is refused, unless the caller is already a participant (then it changes nothing)', () => {
    expect(judgeTeam(professionalFacts(doctor), team('Solo'), [doctor, quiet], none)).toEqual(refused('Team "Solo" has no contactable member other than you'));
    expect(judgeTeam(professionalFacts(doctor), team('Solo'), [doctor, quiet], new Set([doctor.id]))).toEqual({ ok: true, members: [], reachCount: 0 });
  });

  test('a patient may pick only the teams they shared with', () => {
    const pat = patient('Pat');
    const shared = team('Cardiology');
    const facts = patientFacts(pat, { teams: [shared], teamMembers: [b] });
    expect(judgeTeam(facts, shared, [b], none)).toEqual({ ok: true, members: [b], reachCount: 1 });
    expect(judgeTeam(facts, team('Renal'), [c], none)).toEqual(refused('Team "Renal" is outside your care network'));
  });
});
