/**
 * `npm run bench -- send | inbox`: pairs of cases that differ in
 * one thing, sent alternately request by request (BENCH_ITERATIONS each) to
 * servers in the bench's process, so both meet the same machine. Each
 * repetition gives each case's median latency; the median of BENCH_REPEAT is
 * printed, with the ratio.
 */
import type { RunningServer } from '../src/server';
import { ADMIN, PASSWORD, addTeamMember, createTeam, createUser, login, post, sendMessage, shareRecord, threadToTeam } from './api';
import { DeliveryPhase, untilLive } from './delivery-phase';
import { startInProcess } from './in-process-server';
import { REPEAT, median, ratio } from './stats';
import { subscribeToCareThread } from './subscribers';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);

/** Runs `a` and `b` alternately; the median of REPEAT repetitions of each one's median latency, in ms. */
async function sideBySide(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  const medians: [number[], number[]] = [[], []];
  for (let r = 0; r < REPEAT; r++) {
    const times: [number[], number[]] = [[], []];
    for (let i = 0; i < ITERATIONS; i++) {
      for (const [k, run] of [a, b].entries()) {
        const t0 = performance.now();
        await run();
        times[k].push(performance.now() - t0);
      }
    }
    times.forEach((xs, k) => medians[k].push(median(xs)));
  }
  return [median(medians[0]), median(medians[1])];
}

function report(name: string, labels: [string, string], [a, b]: [number, number]) {
  console.log(
    `${name}, median of ${REPEAT}\n  ${labels[0]} (reference): ${a.toFixed(2)} ms median\n  ${labels[1]}: ${b.toFixed(2)} ms median\n  ratio: ${ratio(b, a)}\n`,
  );
}

/** A clinic with `professionals` staff (a quarter of them in two auto-CC teams) and one patient. */
async function clinic(professionals: number) {
  const server = await startInProcess();
  const admin = await login(server.url, ADMIN.email, ADMIN.password);
  const ids: string[] = [];
  for (let i = 0; i < professionals; i++) ids.push(await createUser(server.url, admin, `pro${i}@bench.example`, 'PROFESSIONAL', `Professional ${i}`));
  for (const [t, name] of ['Diabetes', 'Cardiology'].entries()) {
    const teamId = await createTeam(server.url, admin, name);
    for (const id of ids.filter((_, i) => i % 8 === t)) await addTeamMember(server.url, admin, teamId, id);
  }
  return { server, token: await login(server.url, 'pro0@bench.example', PASSWORD) };
}

export async function sendBench() {
  const { server, token } = await clinic(30);
  const [watched, unwatched] = await individuals(server, token, 2);
  const thread = async (to: string) =>
    (await post(server.url, `mutation($to: ID!) { createThread(subject: "Bench", body: "first", recipients: [{ userId: $to }]) { id } }`, { to }, token)).createThread
      .id as string;
  const [toWatched, toUnwatched] = [await thread(watched.id), await thread(unwatched.id)];
  const watcherToken = await login(server.url, watched.email, PASSWORD);
  const subscribers = 20;
  let probe: DeliveryPhase | undefined;
  const sockets = await subscribeToCareThread(server.url, Array(subscribers).fill(watcherToken), (body, frame) => probe?.record(body, frame));
  await untilLive(subscribers, (body) => sendMessage(server.url, token, toWatched, body), (p) => (probe = p));
  const send = (t: string) => () => sendMessage(server.url, token, t, 'hello');
  const result = await sideBySide(send(toUnwatched), send(toWatched));
  report(`sendMessage (${ITERATIONS} requests each)`, ['recipient not subscribed', `recipient on ${subscribers} subscribed sockets`], result);
  await sockets.close();
  await server.close();
}

/**
 * The first page of a team inbox, for a team with 20 threads against one with
 * 2,000 (half of them waiting, a patient waiting longest first): the order
 * comes from an index, so the page should cost about the same.
 */
export async function inboxBench() {
  const server = await startInProcess();
  const url = server.url;
  const admin = await login(url, ADMIN.email, ADMIN.password);
  const patient = { id: await createUser(url, admin, 'patient@bench.example', 'PATIENT'), token: '' };
  patient.token = await login(url, 'patient@bench.example', PASSWORD);
  const members = [await createUser(url, admin, 'a@bench.example', 'PROFESSIONAL'), await createUser(url, admin, 'b@bench.example', 'PROFESSIONAL')];
  const memberToken = await login(url, 'a@bench.example', PASSWORD);
  const team = async (name: string, threads: number) => {
    const teamId = await createTeam(url, admin, name);
    for (const id of members) await addTeamMember(url, admin, teamId, id);
    await shareRecord(url, patient, teamId);
    for (let i = 0; i < threads; i++) {
      const threadId = await threadToTeam(url, patient.token, teamId);
      if (i % 2) await sendMessage(url, memberToken, threadId, 'Yes');
    }
    return teamId;
  };
  const [small, large] = [await team('Small', 20), await team('Large', 2_000)];
  const page = (teamId: string) => () =>
    post(url, `query($t: ID!) { teamInbox(teamId: $t, first: 20) { edges { node { waitingSince assignee { name } thread { subject } } } } }`, { t: teamId }, memberToken);
  report(`teamInbox first page of 20 (${ITERATIONS} requests each)`, ['team with 20 threads', 'team with 2,000 threads'], await sideBySide(page(small), page(large)));
  await server.close();
}

/** Professionals the caller may pick one by one (not in an auto-CC team). */
async function individuals(server: RunningServer, token: string, count: number): Promise<{ id: string; email: string }[]> {
  const { recipients } = await post(server.url, `{ recipients(first: 100) { ... on UserRecipient { user { id name } } } }`, {}, token);
  return recipients
    .filter((r: { user?: unknown }) => r.user)
    .slice(0, count)
    .map((r: { user: { id: string; name: string } }) => ({ id: r.user.id, email: `pro${r.user.name.split(' ')[1]}@bench.example` }));
}
