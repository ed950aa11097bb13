import { GRAPHQL_LIMITS } from '../../src/graphql/limits';

// Operations at and over each operation limit, for the server tests (test/limits.test.ts)
// and the pipeline's own (test/unit/pipeline-limits.test.ts). They take `$id`, a thread id.

/** `thread(id: $id) { lastMessage { thread { lastMessage ... id } } }`, `depth` fields deep, one object per level. */
export function nested(depth: number): string {
  const fields = ['thread(id: $id)', ...Array.from({ length: depth - 2 }, (_, i) => (i % 2 ? 'thread' : 'lastMessage'))];
  return `query($id: ID!) { ${fields.map((f) => `${f} { `).join('')}id${' }'.repeat(fields.length)} }`;
}
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
const directives = (n: number) => `{ me { ${Array.from({ length: n }, () => 'id @include(if: true)').join(' ')} } }`;
/** An operation of `n` tokens or a few more: 12 tokens, plus 2 per fragment spread. */
const tokens = (n: number) => `{ me { ${'...F '.repeat(Math.ceil((n - 12) / 2))}} } fragment F on User { id }`;
const COSTLY = '{ threads(first: 100) { edges { node { messages(first: 100) { edges { node { body } } } } } } }';
const INBOX = `{ threads { edges { node { id subject unreadCount participants { user { name } viaTeam { name } }
  messages { edges { node { id body createdAt author { name } } } } } } } }`;

/** Each limit: an operation just inside it, one just over it, and what the refusal says. */
export const LIMITS: [string, string, string, string, RegExp][] = [
  ['depth', nested(GRAPHQL_LIMITS.maxDepth), nested(GRAPHQL_LIMITS.maxDepth + 1), 'GRAPHQL_VALIDATION_FAILED', /^Query depth limit of 10 exceeded/],
  ['aliases', aliases(GRAPHQL_LIMITS.maxAliases), aliases(GRAPHQL_LIMITS.maxAliases + 1), 'GRAPHQL_VALIDATION_FAILED', /^Aliases limit of 15 exceeded/],
  ['directives', directives(GRAPHQL_LIMITS.maxDirectives), directives(GRAPHQL_LIMITS.maxDirectives + 1), 'GRAPHQL_VALIDATION_FAILED', /^Directives limit of 20 exceeded/],
  ['tokens', tokens(GRAPHQL_LIMITS.maxTokens), tokens(GRAPHQL_LIMITS.maxTokens + 1), 'GRAPHQL_PARSE_FAILED', /contains more tha[nt] 2000 tokens/],
  ['cost', INBOX, COSTLY, 'GRAPHQL_VALIDATION_FAILED', /^Query cost \d+ is over the limit of 20000/],
];
