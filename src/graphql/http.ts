import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import accepts from 'accepts';
import { OperationTypeNode, type ExecutionArgs, type ExecutionResult, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import { createHandler, parseRequestParams, type Request, type Response } from 'graphql-http';
import { clientInfo, type ClientInfo, type Context, type TrustProxy } from '../context';
import { RequestErrorCode } from '../errors';
import type { OperationLabels } from '../metrics/operation-labels';
import { withOrigin } from '../common/request-origin';
import { badRequest, httpStatusOf, type OperationArgs, type OperationPipeline } from './pipeline';

/** What one HTTP request carries from hook to hook of graphql-http. */
interface Exchange {
  client: ClientInfo;
  /** The media type the answer is sent as. */
  mediaType: string;
  /** Set once the pipeline has prepared the operation. */
  operation?: OperationLabels;
}

/** Our Context, as graphql-http types a context (an interface has no index signature, which it asks for). */
type HttpContext = Context & Record<PropertyKey, unknown>;

/**
 * A request once the access log gave it its id (a string: access-log.ts) and the JSON body
 * parser read its body, if it had one (an object, or an array, which is refused: one operation per request).
 */
export type ParsedRequest = IncomingMessage & { body?: Record<string, unknown> };

/** GraphQL over HTTP as a handler of node:http's request and response: Express's, or none (server.ts). */
export type GraphqlHandler = (req: ParsedRequest, res: ServerResponse, next: (error: unknown) => void) => void;

const MEDIA_TYPES = ['application/json', 'application/graphql-response+json'];

/**
 * GraphQL over HTTP (graphql-http, the reference implementation of the spec) on
 * the pipeline, after express.json has read the body (at most 1 MB; its own
 * failures go to the error handler). One operation per request: a POST of
 * `application/json` (anything else is refused, 415, and runs nothing: no
 * cross-site form can post an operation), or a GET of a query (a mutation over
 * GET is 405). Every answer is JSON, refusals with BAD_REQUEST (406 for an Accept
 * header without JSON); an operation the pipeline refuses is 400 (or its error's
 * own status) whether the client accepts application/json or graphql-response+json.
 */
export function graphqlOverHttp(pipeline: OperationPipeline, trust: TrustProxy): GraphqlHandler {
  const handler = createHandler<ParsedRequest, Exchange, HttpContext>({
    parseRequestParams: async (req) => {
      if (Array.isArray(req.raw.body)) return refusal(400, 'Batched operations are not supported: send one operation per request');
      try {
        return await parseRequestParams(req);
      } catch (error) {
        return refusal(400, (error as Error).message);
      }
    },
    onSubscribe: async (req, params) => {
      const get = req.method === 'GET';
      const prepared = await pipeline.prepare(params, {
        transport: 'http',
        client: req.context.client,
        admit: (operation) =>
          get && operation.operation === OperationTypeNode.MUTATION
            ? badRequest('Mutations are sent with POST, never GET', { status: 405, headers: new Map([['allow', 'POST']]) })
            : null,
      });
      if (!prepared.ok) return answer(req.context, prepared.status, { errors: prepared.formatted }, prepared.errors);
      req.context.operation = prepared.operation;
      return prepared.args as ExecutionArgs & { contextValue: HttpContext };
    },
    execute: (args) => pipeline.execute(args as OperationArgs),
    onOperation: (req, _args, result) => {
      const { errors, ...rest } = result as ExecutionResult;
      if (!errors) return answer(req.context, 200, rest, []);
      const formatted = pipeline.format('http', req.context.client, req.context.operation!, errors);
      // Without data the operation did not run (its variables were refused).
      return answer(req.context, httpStatusOf(errors) ?? ('data' in result ? 200 : 400), { ...rest, errors: formatted }, errors);
    },
  });

  return (req, res, next) => {
    const client = clientInfo(req, trust, req.headers.authorization, req.id as string);
    // The media type the client prefers; graphql-http refuses (406) an Accept that names no JSON.
    // Given a list, accepts answers one of its types or false.
    const mediaType = (accepts(req).type(MEDIA_TYPES) as string | false) || MEDIA_TYPES[0];
    const request: Request<ParsedRequest, Exchange> = {
      method: req.method!,
      // Only its query string is read (a GET's operation), which a mount point leaves as it was.
      url: req.url!,
      // express.json has read (and checked the charset of) a JSON body; graphql-http expects exactly this type for one.
      headers: { ...req.headers, ...(req.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: req.body ?? null,
      raw: req,
      context: { client, mediaType },
    };
    withOrigin(client, () => handler(request)).then((response) => {
      const [body, init] = response[0] === null ? withBody(response) : response;
      res.writeHead(init.status ?? 200, { ...init.headers, 'content-length': Buffer.byteLength(body ?? '') }).end(body);
    }, next);
  };
}

/** A refusal of the request itself, before any operation: BAD_REQUEST as JSON. */
function refusal(status: number, message: string, headers: Record<string, string> = {}): Response {
  const errors: GraphQLFormattedError[] = [{ message, extensions: { code: RequestErrorCode.BadRequest } }];
  return [JSON.stringify({ errors }), { status, statusText: STATUS_CODES[status] ?? '', headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } }];
}

/** Why graphql-http refused a request without saying so in a body, by its status. */
const BARE_REFUSALS: Record<number, string> = {
  405: 'Send operations as POST, or queries as GET',
  406: 'The Accept header names no type this server answers in: application/json or application/graphql-response+json',
  415: 'Send operations as POST with Content-Type: application/json (or as GET with a query)',
};

/** graphql-http's bare refusals (another method, an Accept without JSON, another content type) with a JSON body that says why. */
function withBody([, init]: Response): Response {
  const status = init.status ?? 400;
  return refusal(status, BARE_REFUSALS[status] ?? 'Bad request', init.headers);
}

/** An answer in the client's media type, with the status and headers (e.g. Retry-After) the errors ask for. */
function answer({ mediaType }: Exchange, status: number, body: ExecutionResult | { errors: GraphQLFormattedError[] }, errors: readonly GraphQLError[]): Response {
  const headers: Record<string, string> = { 'content-type': `${mediaType}; charset=utf-8` };
  for (const error of errors) {
    const asked = (error.extensions.http as { headers?: Map<string, string> } | undefined)?.headers;
    for (const [name, value] of asked ?? []) headers[name] = value;
  }
  return [JSON.stringify(body), { status, statusText: STATUS_CODES[status] ?? '', headers }];
}
