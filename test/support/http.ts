import type { GraphQLFormattedError } from 'graphql';

export interface RawResponse {
  status: number;
  headers: Headers;
  contentType: string;
  text: string;
  json: { data?: unknown; errors?: GraphQLFormattedError[] } | null;
}

/** One HTTP request; the body as text, and as JSON when it parses. */
export async function raw(url: string, init: RequestInit = {}): Promise<RawResponse> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: RawResponse['json'] = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, contentType: res.headers.get('content-type') ?? '', text, json };
}

export const postJson = (url: string, body: string, headers: Record<string, string> = {}) =>
  raw(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

/** Fails when text shows anything of the server's insides: a stack, a frame, a source path. */
export function expectNoLeak(text: string): void {
  expect(text).not.toMatch(/stacktrace/i);
  expect(text).not.toMatch(/\bat [\w$.<>]+ \(/); // "at fn (" stack frames
  expect(text).not.toMatch(/\bat (?:\/|node:|file:)/); // "at /path/file.js:1:2" frames
  expect(text).not.toMatch(/\.(?:ts|js):\d+/);
  expect(text).not.toContain('/src/');
  expect(text).not.toContain('node_modules');
}

/** A clean refusal: a 4xx with a JSON body of coded errors and nothing leaked. */
export function expectCleanRefusal(res: RawResponse, code: string): GraphQLFormattedError {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.contentType).toMatch(/application\/(graphql-response\+)?json/);
  expectNoLeak(res.text);
  expect(res.json?.errors).toHaveLength(1);
  const [error] = res.json!.errors!;
  expect(error.extensions?.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(0);
  return error;
}
