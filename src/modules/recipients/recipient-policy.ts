import type { Team } from '../teams/team.entity';
import { isContactable, isProfessional, type User } from '../users/user.entity';

/**
 * What the rules need to know about one caller and the users and teams they
 * picked (RecipientService loads it for the picks alone). The functions below
 * are the rules themselves: a pick is refused when they refuse it, and the
 * drop-down restates them in SQL (recipient-offer.ts) to offer exactly what
 * they accept, so the two never disagree (test/recipients.test.ts checks both).
 */
export interface RecipientFacts {
  caller: User;
  /** For a patient caller: who of the picks they shared their record with. Null for professionals. */
  patientNetwork: CareNetwork | null;
  /**
   * For a professional caller adding to a thread: who of the picks the thread's patients shared their
   * record with, whom the caller may reach in other organisations. Empty otherwise.
   */
  threadNetwork: CareNetwork;
  /** For a professional caller: the picked patients who shared with them or one of their teams. */
  sharingPatientIds: Set<string>;
  /** For a professional caller: the picked patients who shared with someone of the caller's organisation. */
  organisationPatientIds: Set<string>;
  /** The auto-CC teams each picked professional belongs to. */
  autoCcTeamsOf: Map<string, Team[]>;
}

/** Who a care network holds, among the picks. */
export interface CareNetwork {
  teamIds: Set<string>;
  professionalIds: Set<string>;
  teamMemberIds: Set<string>;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const refuse = (reason: string): Verdict => ({ ok: false, reason });
const OK: Verdict = { ok: true };
/** What a pick of an unknown id gets: a user or team the caller may not know of gets the same, so that nothing tells it exists. */
export const UNKNOWN_RECIPIENT = 'Unknown recipient';

/**
 * Whether a professional caller may know of this user at all: someone of their organisation, a patient
 * who shared with someone of it, or someone a patient of the thread shared with. Patients know of their
 * care network's people only through what they shared, and of nobody's organisation.
 */
function known(facts: RecipientFacts, user: User): boolean {
  const { caller, threadNetwork } = facts;
  if (facts.patientNetwork) return true;
  if (!isProfessional(user)) return facts.organisationPatientIds.has(user.id);
  return user.organisationId === caller.organisationId || threadNetwork.professionalIds.has(user.id) || threadNetwork.teamMemberIds.has(user.id);
}

/** May the caller pick this user individually? */
export function judgeUser(facts: RecipientFacts, user: User): Verdict {
  const { caller, patientNetwork } = facts;
  if (user.id === caller.id) return refuse('You cannot pick yourself');
  if (!known(facts, user)) return refuse(UNKNOWN_RECIPIENT);
  if (user.disabled) return refuse(`${user.name}'s account is disabled`);
  if (!isProfessional(user)) {
    if (patientNetwork) return refuse(`${user.name} is outside your care network`);
    return facts.sharingPatientIds.has(user.id)
      ? OK
      : refuse(`${user.name} has not shared their record with you or your teams`);
  }
  // The rule, for a pick; the drop-down's query restates it (recipient-offer.ts offeredUser), to offer exactly whom it accepts.
  if (!user.contactable) return refuse(`${user.name} is not contactable by messages`);
  if (patientNetwork && !patientNetwork.professionalIds.has(user.id) && !patientNetwork.teamMemberIds.has(user.id)) {
    return refuse(`${user.name} is outside your care network`);
  }
  const autoCcTeams = facts.autoCcTeamsOf.get(user.id);
  if (autoCcTeams?.length) {
    const names = autoCcTeams.map((t) => `"${t.name}"`).join(', ');
    return refuse(`${user.name} is a member of the auto-CC team ${names}: pick the team instead`);
  }
  return OK;
}

export type TeamVerdict = { ok: true; members: User[]; reachCount: number } | { ok: false; reason: string };

/**
 * May the caller pick this team, and whom would it add? `members` is every
 * member of the team; the result holds the contactable ones other than the
 * caller who are not yet participants (possibly none: then picking changes nothing),
 * and `reachCount`, how many a message to the team reaches: the contactable
 * ones other than the caller, participants or not.
 * A disabled member counts as not contactable.
 */
export function judgeTeam(facts: RecipientFacts, team: Team, members: User[], participantIds: Set<string>): TeamVerdict {
  if (!facts.patientNetwork && team.organisationId !== facts.caller.organisationId && !facts.threadNetwork.teamIds.has(team.id)) {
    return { ok: false, reason: UNKNOWN_RECIPIENT };
  }
  if (!team.autoCc) return { ok: false, reason: `Team "${team.name}" is not an auto-CC team: pick its members one by one` };
  if (facts.patientNetwork && !facts.patientNetwork.teamIds.has(team.id)) {
    return { ok: false, reason: `Team "${team.name}" is outside your care network` };
  }
  const contactable = members.filter(isContactable);
  const reachable = contactable.filter((u) => u.id !== facts.caller.id);
  if (!reachable.length) {
    // The caller alone: once they are a participant this is a team whose members all are, which changes nothing.
    if (contactable.length && participantIds.has(facts.caller.id)) return { ok: true, members: [], reachCount: 0 };
    const reason = contactable.length ? 'has no contactable member other than you' : 'has no contactable member';
    return { ok: false, reason: `Team "${team.name}" ${reason}` };
  }
  return { ok: true, members: reachable.filter((u) => !participantIds.has(u.id)), reachCount: reachable.length };
}
