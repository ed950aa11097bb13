/** The CareThread API as a bench client sees it: GraphQL over HTTP POST, and the helpers every scenario signs in and builds with. */

export const ADMIN = { email: 'admin@bench.example', password: 'bench-password' };
export const PASSWORD = 'password-1234';

/** The settings of every server the bench starts, beside its database and log level. */
export const SERVER_SETTINGS = {
  PORT: '0',
  HOST: '127.0.0.1',
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
  PASSWORD_HASH_COST: '10',
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
};

export async function post(url: string, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const json = (await res.json()) as { data?: any; errors?: unknown[] };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json.data;
}

export const login = async (url: string, email: string, password: string): Promise<string> =>
  (await post(url, `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`, { e: email, p: password })).login.token;

export async function createUser(url: string, admin: string, email: string, kind: 'PROFESSIONAL' | 'PATIENT', name = email): Promise<string> {
  const input = { email, name, kind, password: PASSWORD };
  return (await post(url, `mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, { i: input }, admin)).createUser.id;
}

export const createTeam = async (url: string, admin: string, name: string): Promise<string> =>
  (await post(url, `mutation($n: String!) { createTeam(name: $n, autoCc: true) { id } }`, { n: name }, admin)).createTeam.id;

export const addTeamMember = (url: string, admin: string, teamId: string, userId: string) =>
  post(url, `mutation($t: ID!, $u: ID!) { addTeamMember(teamId: $t, userId: $u) { id } }`, { t: teamId, u: userId }, admin);

export const shareRecord = (url: string, patient: { id: string; token: string }, teamId: string) =>
  post(url, `mutation($p: ID!, $t: ID!) { shareRecord(patientId: $p, recipient: { teamId: $t }) }`, { p: patient.id, t: teamId }, patient.token);

export const threadToTeam = async (url: string, token: string, teamId: string, subject = 'Question', body = 'Is this normal?'): Promise<string> =>
  (await post(url, `mutation($t: ID!, $s: String!, $b: String!) { createThread(subject: $s, body: $b, recipients: [{ teamId: $t }]) { id } }`, { t: teamId, s: subject, b: body }, token))
    .createThread.id;

export const sendMessage = (url: string, token: string, threadId: string, body: string) =>
  post(url, `mutation($t: ID!, $b: String!) { sendMessage(threadId: $t, body: $b) { id } }`, { t: threadId, b: body }, token);
