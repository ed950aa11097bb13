import { In, type EntityManager } from 'typeorm';
import { batches } from '../../common/batch';
import { newId } from '../../common/ids';
import { tablePath } from '../../database/table-path';
import { AuditAction } from '../audit/audit-action';
import type { AuditEntry, AuditedUnitOfWork } from '../audit/audit-entry';
import { reachedByOrganisation } from '../care-network/organisation-reach';
import { autoCcRefusal } from '../organisations/auto-cc-allowed';
import { lockedOrganisation } from '../organisations/organisation-lookup';
import { ProfessionalShare, TeamShare } from '../care-network/record-share.entity';
import { TeamMember } from '../teams/team-member.entity';
import { Team } from '../teams/team.entity';
import { UserKind } from '../users/user-kind';
import { User, type Actor } from '../users/user.entity';
import { DirectoryFileError, type Directory, type PersonRecord } from './directory-file';

/** How many of each a directory import created. */
export interface ImportSummary {
  professionals: number;
  patients: number;
  teams: number;
  memberships: number;
  shares: number;
}

/** Someone or a team the file names but does not hold, as the database has them. */
interface Known {
  users: Map<string, Pick<User, 'id' | 'kind'>>;
  teams: Map<string, string>;
}

/**
 * Loads a directory (directory-file.ts) in one transaction, in multi-row INSERTs (common/batch.ts): thousands
 * of people in seconds. Everything is audited as the API would audit the same changes, one entry per
 * user, team, membership and share with the importing admin as actor, so the trail, the patients' access
 * logs and the FHIR export read the same either way. Imported people have the password hash of the file
 * or none, which no password matches (docs/operations.md: they sign in through the identity provider).
 */
export class DirectoryImport {
  private readonly uow: AuditedUnitOfWork;

  constructor(deps: { uow: AuditedUnitOfWork }) {
    ({ uow: this.uow } = deps);
  }

  /**
   * Creates what `directory` holds, as `admin`. DirectoryFileError, and nothing changed, when an email or
   * team name is taken already, or a member or share names nobody of the file or the database, or someone
   * of the wrong kind (a member must be a professional, a share's patient a patient).
   */
  async run(admin: Actor & Pick<User, 'organisationId'>, directory: Directory): Promise<ImportSummary> {
    return this.uow.run(async (tx) => {
      const m = tx.manager;
      const known = await this.check(m, directory, admin.organisationId!);
      const now = new Date();
      const person = (p: PersonRecord, kind: UserKind, flags: { contactable: boolean; isAdmin: boolean }) =>
        Object.assign(new User(), {
          id: newId(),
          email: p.email,
          name: p.name,
          kind,
          ...flags,
          organisationId: kind === UserKind.PROFESSIONAL ? admin.organisationId : null,
          registeredByOrganisationId: kind === UserKind.PATIENT ? admin.organisationId : null,
          disabled: false,
          passwordHash: p.passwordHash ?? '',
          createdAt: now,
          externalIssuer: null,
          externalSubject: null,
        });
      const users = [
        ...directory.professionals.map((p) => person(p, UserKind.PROFESSIONAL, p)),
        ...directory.patients.map((p) => person(p, UserKind.PATIENT, { contactable: false, isAdmin: false })),
      ];
      const teams = directory.teams.map((t) => Object.assign(new Team(), { id: newId(), name: t.name, autoCc: t.autoCc, waitingLimitMinutes: null, organisationId: admin.organisationId, createdAt: now }));
      for (const u of users) known.users.set(u.email, u);
      for (const t of teams) known.teams.set(t.name, t.id);

      const memberships = unique(
        directory.teams.flatMap((t) => t.members.map((member) => ({ teamId: known.teams.get(t.name)!, userId: known.users.get(member.email)!.id, addedAt: now }))),
        (tm) => `${tm.teamId}:${tm.userId}`,
      );
      const shares = directory.shares.map((s) => ({ patientId: known.users.get(s.patient)!.id, team: s.team, professional: s.professional }));
      const teamShares = unique(
        shares.flatMap((s) => (s.team === undefined ? [] : [{ patientId: s.patientId, teamId: known.teams.get(s.team)!, sharedAt: now }])),
        (s) => `${s.patientId}:${s.teamId}`,
      );
      const professionalShares = unique(
        shares.flatMap((s) => (s.professional === undefined ? [] : [{ patientId: s.patientId, professionalId: known.users.get(s.professional)!.id, sharedAt: now }])),
        (s) => `${s.patientId}:${s.professionalId}`,
      );

      const tables = [
        [User, users],
        [Team, teams],
        [TeamMember, memberships],
        [TeamShare, teamShares],
        [ProfessionalShare, professionalShares],
      ] as const;
      for (const [target, rows] of tables) {
        for (const batch of batches<object>(rows)) await m.createQueryBuilder().insert().into(target).values(batch).execute();
      }

      const entries: AuditEntry[] = [
        ...users.map((u) => ({ actor: admin, action: AuditAction.UserCreated, subjectUserId: u.id })),
        ...teams.map((t) => ({ actor: admin, action: AuditAction.TeamCreated, teamId: t.id })),
        ...memberships.map((tm) => ({ actor: admin, action: AuditAction.TeamMemberAdded, teamId: tm.teamId, subjectUserId: tm.userId })),
        ...teamShares.map((s) => ({ actor: admin, action: AuditAction.RecordShared, patientId: s.patientId, teamId: s.teamId, subjectUserId: null })),
        ...professionalShares.map((s) => ({ actor: admin, action: AuditAction.RecordShared, patientId: s.patientId, teamId: null, subjectUserId: s.professionalId })),
      ];
      for (const batch of batches(entries)) await tx.audit(...batch);
      // PostgreSQL plans by its statistics, which know nothing of thousands of rows just inserted until autovacuum
      // comes round: meanwhile the recipient drop-down's subqueries were planned as scans of every user per team.
      if (m.connection.driver.options.type === 'postgres') {
        await m.query(`ANALYZE ${tables.map(([target]) => tablePath(m.queryRunner!, m.connection.getMetadata(target).tableName)).join(', ')}`);
      }
      return {
        professionals: directory.professionals.length,
        patients: directory.patients.length,
        teams: teams.length,
        memberships: memberships.length,
        shares: teamShares.length + professionalShares.length,
      };
    });
  }

  /**
   * Refuses taken emails (in any organisation: an email signs in one account) and team names (in the
   * admin's organisation), and references to nobody or to someone of the wrong kind; what the file names
   * from the database. Only what the admin's organisation reaches is found there (its professionals and
   * teams, the patients it registered or who shared with it): anyone else is nobody, as through the API.
   */
  private async check(m: EntityManager, directory: Directory, organisationId: string): Promise<Known> {
    const problems: string[] = [];
    const people = [...directory.professionals, ...directory.patients];
    const fileEmails = new Set(people.map((p) => p.email));
    const fileTeams = new Set(directory.teams.map((t) => t.name));
    for (const taken of await this.users(m, [...fileEmails])) {
      problems.push(`${people.find((p) => p.email === taken.email)!.where}: a user with email ${taken.email} already exists`);
    }
    const refusal = directory.teams.some((t) => t.autoCc) ? autoCcRefusal(await lockedOrganisation(m, organisationId, 'share')) : null;
    if (refusal) for (const team of directory.teams.filter((t) => t.autoCc)) problems.push(`${team.where}: ${refusal}`);
    for (const taken of await this.teams(m, [...fileTeams], organisationId)) {
      problems.push(`${directory.teams.find((t) => t.name === taken.name)!.where}: a team named "${taken.name}" already exists`);
    }

    const referenced = [
      ...directory.teams.flatMap((t) => t.members.map((member) => member.email)),
      ...directory.shares.flatMap((s) => [s.patient, ...(s.professional === undefined ? [] : [s.professional])]),
    ];
    const known: Known = {
      users: new Map((await this.users(m, unique(referenced.filter((e) => !fileEmails.has(e)), (e) => e), organisationId)).map((u) => [u.email, u])),
      teams: new Map(
        (await this.teams(m, unique(directory.shares.flatMap((s) => (s.team === undefined || fileTeams.has(s.team) ? [] : [s.team])), (n) => n), organisationId)).map((t) => [
          t.name,
          t.id,
        ]),
      ),
    };
    const fileKinds = new Map([
      ...directory.professionals.map((p) => [p.email, UserKind.PROFESSIONAL] as const),
      ...directory.patients.map((p) => [p.email, UserKind.PATIENT] as const),
    ]);
    const kindOf = (email: string): UserKind | undefined => fileKinds.get(email) ?? known.users.get(email)?.kind;
    const expect = (where: string, email: string, kind: UserKind, role: string) => {
      const actual = kindOf(email);
      if (actual === undefined) problems.push(`${where}: nobody has the email ${email}`);
      else if (actual !== kind) problems.push(`${where}: ${email} is not a ${kind.toLowerCase()} (${role})`);
    };
    for (const team of directory.teams) for (const member of team.members) expect(member.where, member.email, UserKind.PROFESSIONAL, 'team members are professionals');
    for (const share of directory.shares) {
      expect(share.where, share.patient, UserKind.PATIENT, 'only a patient record can be shared');
      if (share.professional !== undefined) expect(share.where, share.professional, UserKind.PROFESSIONAL, 'a record is shared with a professional or a team');
      else if (!fileTeams.has(share.team) && !known.teams.has(share.team)) problems.push(`${share.where}: there is no team named "${share.team}"`);
    }
    if (problems.length) throw new DirectoryFileError(problems);
    return known;
  }

  /** The users with these emails; with `organisationId`, only those its admins reach (CareNetworkService.userOfOrganisation). */
  private async users(m: EntityManager, emails: string[], organisationId?: string): Promise<Pick<User, 'id' | 'email' | 'kind'>[]> {
    const found = [];
    for (const batch of batches(emails)) {
      const q = m.createQueryBuilder(User, 'u').select(['u.id', 'u.email', 'u.kind']).where('u.email IN (:...batch)', { batch });
      if (organisationId) q.andWhere(...reachedByOrganisation(m, 'u', organisationId));
      found.push(...(await q.getMany()));
    }
    return found;
  }

  private async teams(m: EntityManager, names: string[], organisationId: string): Promise<Pick<Team, 'id' | 'name'>[]> {
    const found = [];
    for (const batch of batches(names)) found.push(...(await m.find(Team, { select: { id: true, name: true }, where: { name: In(batch), organisationId } })));
    return found;
  }
}

/** The first of the items with the same key. */
function unique<T>(items: T[], keyOf: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(keyOf(item))) seen.set(keyOf(item), item);
  return [...seen.values()];
}
