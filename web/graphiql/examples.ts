// The operations GraphiQL opens with, one tab each: the dashboard's own (web/operations, via
// web/gql), with variables written against `npm run demo`'s clinic.
// test/browser/graphiql.test.ts validates every one against the schema.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { CreateThreadDocument, LoginDocument, RecipientsDocument, ThreadActivityDocument } from '../gql/graphql';

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

/** A tab: the teaching comment, then the operation as the dashboard sends it, with its variables. */
function example<V>(comment: string, document: TypedDocumentNode<unknown, V>, variables: V): Example {
  const header = comment
    .trim()
    .split('\n')
    .map((line) => `# ${line.trim()}`)
    .join('\n');
  return { query: `${header}\n${print(document)}\n`, variables: `${JSON.stringify(variables, null, 2)}\n` };
}

export const EXAMPLES: Example[] = [
  example(
    `Sign in as the demo patient (email and password
    in Variables, below; npm run demo prints the
    other logins).
    The headers below send the token it returns
    with every other tab's operations.`,
    LoginDocument,
    { email: 'pat@demo.carethread', password: 'carethread-demo' },
  ),
  example(
    `The recipient drop-down.
    An auto-CC team is ONE option, a TeamRecipient:
    picking it adds the users its members field
    lists (ask for it too), and
    reachCount says how many a message to it reaches.
    Its members are never offered one by one.
    Other professionals come as UserRecipients.
    A patient is offered only their care network.`,
    RecipientsDocument,
    { first: 20 },
  ),
  example(
    `A new thread to a whole team.
    A RecipientInput holds one of teamId and userId.
    Put a team id from the Recipients tab in
    recipients (Variables, below). Every contactable
    member joins, with viaTeam naming the team.`,
    CreateThreadDocument,
    {
      subject: 'Morning readings',
      body: 'My readings were above 12 all week.',
      recipients: [{ teamId: '<a team id from the Recipients tab>' }],
    },
  ),
  example(
    `Everything that changes your threads, live, over
    graphql-ws on this same URL: the Authorization
    header goes as connectionParams.authorization.
    Run it, then send a message in one of your threads
    (from another tab or client). Run again to stop.
    Files go up first: POST /attachments (multipart,
    part "file", this Authorization header); send
    their ids as sendMessage's attachmentIds, and ask
    attachmentLink(id) for a download link.`,
    ThreadActivityDocument,
    {},
  ),
];
