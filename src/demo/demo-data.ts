import type { App } from '../app';
import { Organisation } from '../modules/organisations/organisation.entity';
import { RecipientInput } from '../modules/recipients/recipient.input';
import { Team } from '../modules/teams/team.entity';
import { Thread } from '../modules/threads/thread.entity';
import { UserKind } from '../modules/users/user-kind';
import { User } from '../modules/users/user.entity';
import { normalizeEmail } from '../modules/users/user-rules';

export const DEMO_PASSWORD = 'carethread-demo';
/** The demo's start-up admin, whatever ADMIN_EMAIL and ADMIN_PASSWORD say (those are for npm start). */
export const DEMO_ADMIN = { email: 'admin@demo.carethread', password: 'carethread-admin' };

interface DemoPerson {
  email: string;
  name: string;
  kind: UserKind;
  contactable?: boolean;
  /** Of the second organisation, created by its admin; otherwise of the first, by the demo's admin. */
  northside?: true;
  note: string;
}

/** The demo's second organisation, with an admin of its own: Pat shares with a team of each. */
const NORTHSIDE = { name: 'Northside Hospital', admin: { email: 'northside-admin@demo.carethread', name: 'Nadia North', password: DEMO_PASSWORD } };

const people = {
  dana: { email: 'dana@demo.carethread', name: 'Dr Dana Diaz', kind: UserKind.PROFESSIONAL, note: 'clinician, Diabetes team (auto-CC, alerts after 4 h)' },
  nico: { email: 'nico@demo.carethread', name: 'Nurse Nico Novak', kind: UserKind.PROFESSIONAL, note: 'clinician, Diabetes team (auto-CC, alerts after 4 h)' },
  olive: {
    email: 'olive@demo.carethread',
    name: 'Dr Olive Oak',
    kind: UserKind.PROFESSIONAL,
    contactable: false,
    note: 'clinician, Diabetes team, not contactable',
  },
  paul: { email: 'paul@demo.carethread', name: 'Paul Park', kind: UserKind.PROFESSIONAL, note: 'clinician, Physiotherapy team (no auto-CC)' },
  pia: { email: 'pia@demo.carethread', name: 'Pia Perez', kind: UserKind.PROFESSIONAL, note: 'clinician, Physiotherapy team (no auto-CC)' },
  gary: { email: 'gary@demo.carethread', name: 'Dr Gary Green', kind: UserKind.PROFESSIONAL, note: 'clinician (GP), no team' },
  cora: { email: 'cora@demo.carethread', name: 'Dr Cora Chen', kind: UserKind.PROFESSIONAL, northside: true, note: 'clinician, Northside Hospital, Cardiology team (auto-CC)' },
  cal: { email: 'cal@demo.carethread', name: 'Nurse Cal Cruz', kind: UserKind.PROFESSIONAL, northside: true, note: 'clinician, Northside Hospital, Cardiology team (auto-CC)' },
  pat: { email: 'pat@demo.carethread', name: 'Pat Patient', kind: UserKind.PATIENT, note: "patient, shared with Diabetes, Physiotherapy and Northside's Cardiology" },
  sam: { email: 'sam@demo.carethread', name: 'Sam Sample', kind: UserKind.PATIENT, note: 'patient, shared with Dr Gary Green' },
} satisfies Record<string, DemoPerson>;

export const demoLogins = [
  ...Object.values(people).map((p) => ({ email: p.email, name: p.name, note: p.note })),
  { email: NORTHSIDE.admin.email, name: NORTHSIDE.admin.name, note: 'admin of Northside Hospital, a second organisation' },
];

const FIRST_THREAD = {
  subject: 'Morning glucose readings',
  body: 'My readings have been above 12 every morning this week.',
};

/**
 * Creates the demo clinic through the services, as an admin would. Its first
 * thread, made last, marks it complete: a second run changes nothing, and a
 * run stopped halfway (Ctrl-C while passwords hash) is finished by the next,
 * which reuses the people and teams already there.
 */
export async function seedDemo(app: App, adminEmail: string): Promise<'created' | 'present'> {
  const m = app.db.manager;
  if (await m.existsBy(Thread, { subject: FIRST_THREAD.subject })) return 'present';
  const admin = await m.findOneByOrFail(User, { email: normalizeEmail(adminEmail) });
  if (!(await m.existsBy(Organisation, { name: NORTHSIDE.name }))) await app.organisations.create(admin, NORTHSIDE.name, true, NORTHSIDE.admin);
  const northsideAdmin = await m.findOneByOrFail(User, { email: normalizeEmail(NORTHSIDE.admin.email) });

  const users = {} as Record<keyof typeof people, User>;
  for (const [key, p] of Object.entries(people) as [keyof typeof people, DemoPerson][]) {
    users[key] =
      (await m.findOneBy(User, { email: normalizeEmail(p.email) })) ??
      (await app.users.createUser(p.northside ? northsideAdmin : admin, {
        email: p.email,
        name: p.name,
        kind: p.kind,
        password: DEMO_PASSWORD,
        contactable: p.contactable ?? true,
        isAdmin: false,
      }));
  }
  const team = async (name: string, autoCc: boolean, members: User[], by = admin) => {
    const created = (await m.findOneBy(Team, { name, organisationId: by.organisationId! })) ?? (await app.teams.create(by, name, autoCc));
    // Adding a member twice changes nothing.
    for (const member of members) await app.teams.addMember(by, created.id, member.id);
    return created;
  };
  const diabetes = await team('Diabetes', true, [users.dana, users.nico, users.olive]);
  await app.inbox.setWaitingLimit(admin, diabetes.id, 4 * 60);
  const physio = await team('Physiotherapy', false, [users.paul, users.pia]);
  const cardiology = await team('Cardiology', true, [users.cora, users.cal], northsideAdmin);

  // Sharing again changes nothing.
  const share = (patient: User, target: { teamId?: string; userId?: string }) =>
    app.careNetwork.shareRecord(patient, patient.id, Object.assign(new RecipientInput(), target));
  await share(users.pat, { teamId: diabetes.id });
  await share(users.pat, { teamId: physio.id });
  await share(users.pat, { teamId: cardiology.id });
  await share(users.sam, { userId: users.gary.id });

  await app.threads.create(users.pat, FIRST_THREAD.subject, FIRST_THREAD.body, [Object.assign(new RecipientInput(), { teamId: diabetes.id })]);
  return 'created';
}
