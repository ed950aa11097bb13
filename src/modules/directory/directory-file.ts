import { parse } from 'csv-parse/sync';
import { isEmail } from 'class-validator';
import { z } from 'zod';
import { requireName } from '../../common/text';
import { normalizeEmail } from '../users/user-rules';

/** A professional or patient to create. No passwordHash: they sign in through the identity provider, or not at all (docs/operations.md). */
export interface PersonRecord {
  /** Where the record is in the file, for messages: "line 4" (CSV) or "professionals[3]" (JSON). */
  where: string;
  email: string;
  name: string;
  passwordHash: string | null;
}

export interface ProfessionalRecord extends PersonRecord {
  contactable: boolean;
  isAdmin: boolean;
}

export interface TeamRecord {
  where: string;
  name: string;
  autoCc: boolean;
  /** The professionals' emails, each with where it was named. */
  members: { where: string; email: string }[];
}

/** A patient's record shared with a team (by name) or a professional (by email). */
export type ShareRecord = { where: string; patient: string } & ({ team: string; professional?: undefined } | { professional: string; team?: undefined });

/** What a directory file asks to create, every field checked as the API would check it. */
export interface Directory {
  professionals: ProfessionalRecord[];
  patients: PersonRecord[];
  teams: TeamRecord[];
  shares: ShareRecord[];
}

/** The file is not a directory CareThread can import: `problems` says where and why, one line each. */
export class DirectoryFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** The hash format of password.ts (`scrypt$cost$salt$key`), the only one a password can be checked against. */
const SCRYPT_HASH = /^scrypt\$\d{1,2}\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads a directory file, JSON or CSV (`format`; see docs/operations.md for both layouts), and checks each
 * record: emails as createUser takes them (stored lower-case), names as requireName, booleans, hashes in
 * password.ts's format, no email or team name twice, every team member and share naming someone or a team
 * of the file or (checked at import) of the database. DirectoryFileError listing every problem found.
 */
export function readDirectory(text: string, format: 'json' | 'csv'): Directory {
  const reader = new RecordReader();
  if (format === 'json') reader.readJson(text);
  else reader.readCsv(text);
  reader.checkWithinFile();
  if (reader.problems.length) throw new DirectoryFileError(reader.problems);
  return reader.directory;
}

const person = z.strictObject({ email: z.string(), name: z.string(), passwordHash: z.string().nullish() });
const jsonFile = z.strictObject({
  professionals: z.array(person.extend({ contactable: z.boolean().optional(), isAdmin: z.boolean().optional() })).optional(),
  patients: z.array(person).optional(),
  teams: z.array(z.strictObject({ name: z.string(), autoCc: z.boolean().optional(), members: z.array(z.string()).optional() })).optional(),
  shares: z.array(z.union([z.strictObject({ patient: z.string(), team: z.string() }), z.strictObject({ patient: z.string(), professional: z.string() })])).optional(),
});

/** Each CSV record type: its layout, and how many fields follow the type at least and at most. */
const CSV_LAYOUTS: Record<string, { layout: string; fields: [number, number] }> = {
  professional: { layout: 'professional,email,name[,contactable: true (default) or false[,passwordHash]]', fields: [2, 4] },
  patient: { layout: 'patient,email,name[,passwordHash]', fields: [2, 3] },
  team: { layout: 'team,name[,autoCc: true or false (default)]', fields: [1, 2] },
  member: { layout: 'member,team name,professional email', fields: [2, 2] },
  'share-team': { layout: 'share-team,patient email,team name', fields: [2, 2] },
  'share-professional': { layout: 'share-professional,patient email,professional email', fields: [2, 2] },
};

class RecordReader {
  readonly problems: string[] = [];
  readonly directory: Directory = { professionals: [], patients: [], teams: [], shares: [] };

  readJson(text: string): void {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      this.problems.push(`not JSON: ${(error as Error).message}`);
      return;
    }
    const parsed = jsonFile.safeParse(data);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) this.problems.push(`${jsonPath(issue.path)}: ${issue.message}`);
      return;
    }
    const file = parsed.data;
    (file.professionals ?? []).forEach((p, i) => this.professional(`professionals[${i}]`, p.email, p.name, p.contactable ?? true, p.isAdmin ?? false, p.passwordHash));
    (file.patients ?? []).forEach((p, i) => this.patient(`patients[${i}]`, p.email, p.name, p.passwordHash));
    (file.teams ?? []).forEach((t, i) => {
      const team = this.team(`teams[${i}]`, t.name, t.autoCc ?? false);
      (t.members ?? []).forEach((email, k) => team && this.member(`teams[${i}].members[${k}]`, team, email));
    });
    (file.shares ?? []).forEach((s, i) => this.share(`shares[${i}]`, s.patient, 'team' in s ? { team: s.team } : { professional: s.professional }));
  }

  readCsv(text: string): void {
    let rows: { record: string[]; line: number }[];
    try {
      // With info, each row comes as { record, info } (csv-parse's types do not say so).
      const parsed = parse(text, { comment: '#', relax_column_count: true, skip_empty_lines: true, trim: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
      rows = parsed.map((r) => ({ record: r.record, line: r.info.lines }));
    } catch (error) {
      this.problems.push(`not CSV: ${(error as Error).message}`);
      return;
    }
    const teams = new Map<string, TeamRecord>();
    const members: { where: string; team: string; email: string }[] = [];
    for (const { record, line } of rows) {
      const where = `line ${line}`;
      const [type, ...fields] = record;
      const layout = Object.hasOwn(CSV_LAYOUTS, type) ? CSV_LAYOUTS[type] : undefined;
      if (!layout) {
        this.problems.push(`${where}: unknown record type "${type}": one of ${Object.keys(CSV_LAYOUTS).join(', ')}`);
        continue;
      }
      const [min, max] = layout.fields;
      if (fields.length < min || fields.length > max) {
        this.problems.push(`${where}: a ${type} record is ${layout.layout}`);
        continue;
      }
      const [a, b, c, d] = fields;
      if (type === 'professional') {
        const contactable = c === undefined || c === '' ? true : this.boolean(where, 'contactable', c);
        if (contactable !== null) this.professional(where, a, b, contactable, false, d);
      } else if (type === 'patient') this.patient(where, a, b, c);
      else if (type === 'team') {
        const autoCc = b === undefined || b === '' ? false : this.boolean(where, 'autoCc', b);
        const team = autoCc === null ? null : this.team(where, a, autoCc);
        if (team) teams.set(team.name, team);
      } else if (type === 'member') members.push({ where, team: a, email: b });
      else this.share(where, a, type === 'share-team' ? { team: b } : { professional: b });
    }
    for (const { where, team, email } of members) {
      const target = teams.get(nameOrNull(team) ?? '');
      if (target) this.member(where, target, email);
      else this.problems.push(`${where}: team "${team}" is not a team of this file (members are added to existing teams through addTeamMember)`);
    }
  }

  /** No email or team name twice in the file. */
  checkWithinFile(): void {
    const seen = new Map<string, string>();
    for (const p of [...this.directory.professionals, ...this.directory.patients]) {
      const first = seen.get(p.email);
      if (first) this.problems.push(`${p.where}: email ${p.email} is also at ${first}`);
      else seen.set(p.email, p.where);
    }
    const teams = new Map<string, string>();
    for (const t of this.directory.teams) {
      const first = teams.get(t.name);
      if (first) this.problems.push(`${t.where}: team "${t.name}" is also at ${first}`);
      else teams.set(t.name, t.where);
    }
  }

  private professional(where: string, email: string, name: string, contactable: boolean, isAdmin: boolean, hash: string | null | undefined): void {
    const fields = this.person(where, email, name, hash);
    if (fields) this.directory.professionals.push({ ...fields, contactable, isAdmin });
  }

  private patient(where: string, email: string, name: string, hash: string | null | undefined): void {
    const fields = this.person(where, email, name, hash);
    if (fields) this.directory.patients.push(fields);
  }

  private person(where: string, email: string, name: string, hash: string | null | undefined): PersonRecord | null {
    const checked = { email: this.email(where, email), name: this.name(where, name), passwordHash: hash ? hash : null };
    if (checked.passwordHash && !SCRYPT_HASH.test(checked.passwordHash)) {
      this.problems.push(`${where}: passwordHash is not a CareThread password hash (scrypt$cost$salt$key)`);
      return null;
    }
    return checked.email && checked.name ? { where, email: checked.email, name: checked.name, passwordHash: checked.passwordHash } : null;
  }

  private team(where: string, name: string, autoCc: boolean): TeamRecord | null {
    const checked = this.name(where, name);
    if (!checked) return null;
    const team = { where, name: checked, autoCc, members: [] };
    this.directory.teams.push(team);
    return team;
  }

  private member(where: string, team: TeamRecord, email: string): void {
    const checked = this.email(where, email);
    if (checked) team.members.push({ where, email: checked });
  }

  private share(where: string, patient: string, target: { team: string } | { professional: string }): void {
    const email = this.email(where, patient);
    const to = 'team' in target ? this.name(where, target.team) : this.email(where, target.professional);
    if (!email || !to) return;
    this.directory.shares.push('team' in target ? { where, patient: email, team: to } : { where, patient: email, professional: to });
  }

  private email(where: string, value: string): string | null {
    const email = normalizeEmail(value);
    if (email.length >= 3 && email.length <= 254 && isEmail(email)) return email;
    this.problems.push(`${where}: "${value}" is not an email address`);
    return null;
  }

  private name(where: string, value: string): string | null {
    try {
      return requireName('name', value);
    } catch (error) {
      this.problems.push(`${where}: ${(error as Error).message}`);
      return null;
    }
  }

  private boolean(where: string, field: string, value: string): boolean | null {
    if (value === 'true' || value === 'false') return value === 'true';
    this.problems.push(`${where}: ${field} must be true or false, not "${value}"`);
    return null;
  }
}

const nameOrNull = (value: string) => {
  try {
    return requireName('name', value);
  } catch {
    return null;
  }
};

const jsonPath = (path: PropertyKey[]) =>
  path.reduce<string>((at, key) => (typeof key === 'number' ? `${at}[${key}]` : at ? `${at}.${String(key)}` : String(key)), '') || 'the file';
