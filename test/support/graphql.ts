import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';

/**
 * An operation as the tests send it: one of web/gql's typed documents (web/operations/*.graphql,
 * checked against the schema), whose data and variables are then typed; or, for what a client
 * may not send (a malformed or hostile request), its text.
 */
export type Operation<T = any, V = Record<string, unknown>> = string | TypedDocumentNode<T, V>;

const printed = new WeakMap<object, string>();

/** The text of an operation, printed once per document. */
export function source(operation: Operation<any, any>): string {
  if (typeof operation === 'string') return operation;
  let text = printed.get(operation);
  if (text === undefined) printed.set(operation, (text = print(operation)));
  return text;
}

export interface GqlResult<T = any> {
  status: number;
  data?: T | null;
  errors?: GraphQLFormattedError[];
}

/** One GraphQL request over real HTTP. */
export async function gql<T = any, V = Record<string, unknown>>(url: string, query: Operation<T, V>, variables?: V, token?: string): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: source(query), variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

/** The data of a request that must succeed; throws with the errors otherwise. */
export async function ok<T = any, V = Record<string, unknown>>(url: string, query: Operation<T, V>, variables?: V, token?: string): Promise<T> {
  const result = await gql<T, V>(url, query, variables, token);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The extensions.code of each error of a request that must fail. */
export async function codes<V = Record<string, unknown>>(url: string, query: Operation<any, V>, variables?: V, token?: string): Promise<string[]> {
  const result = await gql(url, query, variables, token);
  if (!result.errors?.length) throw new Error(`expected errors, got ${JSON.stringify(result.data)}`);
  return result.errors.map((e) => String(e.extensions?.code));
}

/** The single error of a request that must fail. */
export async function failure<V = Record<string, unknown>>(url: string, query: Operation<any, V>, variables?: V, token?: string): Promise<GraphQLFormattedError> {
  const result = await gql(url, query, variables, token);
  if (result.errors?.length !== 1) throw new Error(`expected one error, got ${JSON.stringify(result)}`);
  return result.errors[0];
}
