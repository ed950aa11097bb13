/**
 * The people of the live-delivery scenarios, made through the API of a running
 * CareThread: professionals with their tokens, and a patient who writes to
 * auto-CC teams made of the first N of them.
 */
import { ADMIN, PASSWORD, addTeamMember, createTeam, createUser, login, sendMessage, shareRecord, threadToTeam } from './api';
import type { FanoutTarget } from './fanout-measure';
import type { ServerProcess } from './child-process';

const AT_ONCE = 8;

/** fn(0..count-1), AT_ONCE at a time, results in order. */
async function inParallel<T>(count: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  return results;
}

export interface Person {
  id: string;
  token: string;
}

export async function careClinic(server: ServerProcess, professionals: number) {
  const url = server.url;
  const admin = await login(url, ADMIN.email, ADMIN.password);
  const person = async (email: string, kind: 'PROFESSIONAL' | 'PATIENT', name: string): Promise<Person> => ({
    id: await createUser(url, admin, email, kind, name),
    token: await login(url, email, PASSWORD),
  });
  const patient = await person('patient@bench.example', 'PATIENT', 'Patient');
  const pros = await inParallel(professionals, (i) => person(`pro${i}@bench.example`, 'PROFESSIONAL', `Professional ${i}`));
  let teams = 0;
  return {
    pros,
    /** An auto-CC team of the first `members` professionals, and a thread the patient opened to it: sends go there. */
    async teamThread(members: number): Promise<FanoutTarget> {
      const teamId = await createTeam(url, admin, `Team ${++teams} of ${members}`);
      await inParallel(members, (i) => addTeamMember(url, admin, teamId, pros[i].id));
      await shareRecord(url, patient, teamId);
      const threadId = await threadToTeam(url, patient.token, teamId);
      return { server, send: (body) => sendMessage(url, patient.token, threadId, body) };
    },
  };
}
