// The operations GraphiQL opens with, one tab each, written against `npm run demo`'s clinic.
// test/graphiql.test.ts validates every one against the schema.

/** Stands for the token of the last login run in this page (see graphiql.tsx). */
export const TOKEN_PLACEHOLDER = '<token from login>';

/** The request headers of every tab, new ones included. */
export const HEADERS = `{
  // Run the Login tab first: ${TOKEN_PLACEHOLDER}
  // then stands for the token it returned (kept in
  // this page only). Or paste a token over it.
  // Subscriptions send it too.
  "Authorization": "Bearer ${TOKEN_PLACEHOLDER}"
}
`;

export interface Example {
  query: string;
  variables?: string;
}

export const EXAMPLES: Example[] = [
  {
    query: `# Sign in as the demo patient
# (npm run demo prints the other logins).
# The headers below send the token it returns
# with every other tab's operations.
mutation Login {
  login(
    email: "pat@demo.carethread"
    password: "carethread-demo"
  ) {
    token
    user { id name kind }
  }
}
`,
  },
  {
    query: `# The recipient drop-down.
# An auto-CC team is ONE option, a TeamRecipient:
# picking it adds the people in members, and
# reachCount says how many a message to it reaches.
# Its members are never offered one by one.
# Other professionals come as UserRecipients.
# A patient is offered only their care network.
query Recipients {
  recipients(first: 20) {
    __typename
    ... on TeamRecipient {
      team { id name autoCc }
      members { name }
      reachCount
    }
    ... on UserRecipient { user { id name kind } }
  }
}
`,
  },
  {
    query: `# A new thread to a whole team.
# A RecipientInput holds one of teamId and userId.
# Put a team id from the Recipients tab in $team
# (Variables, below). Every contactable member
# joins, with viaTeam naming the team.
mutation CreateThreadToTeam($team: ID!) {
  createThread(
    subject: "Morning readings"
    body: "My readings were above 12 all week."
    recipients: [{ teamId: $team }]
  ) {
    id
    subject
    participants { user { name } viaTeam { name } }
  }
}
`,
    variables: `{ "team": "<a team id from the Recipients tab>" }`,
  },
  {
    query: `# New messages in every thread you are in, live,
# over graphql-ws on this same URL: the Authorization
# header goes as connectionParams.authorization.
# Run it, then send a message in one of your threads
# (from another tab or client). Run again to stop.
subscription MessageAdded {
  messageAdded {
    id
    threadId
    body
    createdAt
    author { name }
    # Files go up first: POST /attachments (multipart,
    # part "file", this Authorization header); send
    # their ids as sendMessage's attachmentIds.
    attachments { name contentType size url }
  }
}
`,
  },
];
