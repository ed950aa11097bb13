import { newId } from '../../src/common/ids';
import { Organisation } from '../../src/modules/organisations/organisation.entity';
import { Team } from '../../src/modules/teams/team.entity';
import { User } from '../../src/modules/users/user.entity';
import type { TestServer } from './server';
import type { Person, TeamRef } from './world';

/**
 * A second organisation named `name`, holding `professionals` and `teams` (made through the API in the
 * first) and having registered `patients`; made in the database, since organisations cannot be created
 * through the API yet. Returns its id.
 */
export async function secondOrganisation(
  server: Pick<TestServer, 'app'>,
  name: string,
  holds: { professionals?: Person[]; teams?: TeamRef[]; patients?: Person[] },
): Promise<string> {
  const m = server.app.db.manager;
  const id = newId();
  await m.insert(Organisation, Object.assign(new Organisation(), { id, name, createdAt: new Date() }));
  for (const person of holds.professionals ?? []) await m.update(User, { id: person.id }, { organisationId: id });
  for (const person of holds.patients ?? []) await m.update(User, { id: person.id }, { registeredByOrganisationId: id });
  for (const team of holds.teams ?? []) await m.update(Team, { id: team.id }, { organisationId: id });
  return id;
}
