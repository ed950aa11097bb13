import type { GraphQLFormattedError } from 'graphql';

export interface GqlResult<T = any> {
  status: number;
  data?: T | null;
  errors?: GraphQLFormattedError[];
}

/** One GraphQL request over real HTTP. */
export async function gql<T = any>(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

/** The data of a request that must succeed; throws with the errors otherwise. */
export async function ok<T = any>(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<T> {
  const result = await gql<T>(url, query, variables, token);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The extensions.code of each error of a request that must fail. */
export async function codes(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<string[]> {
  const result = await gql(url, query, variables, token);
  if (!result.errors?.length) throw new Error(`expected errors, got ${JSON.stringify(result.data)}`);
  return result.errors.map((e) => String(e.extensions?.code));
}

/** The single error of a request that must fail. */
export async function failure(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLFormattedError> {
  const result = await gql(url, query, variables, token);
  if (result.errors?.length !== 1) throw new Error(`expected one error, got ${JSON.stringify(result)}`);
  return result.errors[0];
}
