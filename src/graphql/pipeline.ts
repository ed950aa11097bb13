import {
  execute,
  getOperationAST,
  GraphQLError,
  Kind,
  OperationTypeNode,
  createSourceEventStream,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { ClientInfo, Context } from '../context';
import { formatError, RequestErrorCode, withCode } from '../errors';
import type { Logger } from '../logger';
import type { Metrics, Transport } from '../metrics/metrics';
import { describeOperation, UNKNOWN_OPERATION, type OperationLabels } from '../metrics/operation-labels';
import { withOrigin, type RequestOrigin } from '../common/request-origin';
import { LiveFeed } from '../live/live-feed';
import { parseOptions, withoutSuggestions, type OperationRules } from './limits';

/** One GraphQL operation as a client sent it, over either transport. */
export interface OperationRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

/** Who sends the operation, and how. */
export interface Caller {
  transport: Transport;
  client: ClientInfo;
  /**
   * The transport's own refusal of a valid operation it will not run (a mutation over GET,
   * one operation too many on a socket), or null; its status is `extensions.http.status` or 400.
   */
  admit?: (operation: OperationDefinitionNode) => GraphQLError | null;
}

/** What the pipeline runs with: the schema, its rules, where it counts and logs, and how a caller's context is made. */
export interface PipelineOptions {
  schema: GraphQLSchema;
  rules: OperationRules;
  metrics: Metrics;
  logger: Logger;
  /** The context of one operation; a failure is masked (500). */
  context(client: ClientInfo): Promise<Context>;
}

/** Execution arguments whose context is ours. */
export type OperationArgs = ExecutionArgs & { contextValue: Context };

/** An operation ready to run, or the errors that refused it (formatted, counted) and the HTTP status that goes with them. */
export type Prepared =
  | { ok: true; args: OperationArgs; operation: OperationLabels }
  | { ok: false; errors: GraphQLError[]; formatted: GraphQLFormattedError[]; status: number };

/** Documents the pipeline keeps parsed, by their text. */
export const PARSED_DOCUMENTS = 500;

const SUBSCRIPTIONS_OVER_HTTP = 'Subscriptions run over graphql-ws: open a websocket to this same URL';

/**
 * The one way an operation runs, for HTTP and graphql-ws alike: parse (at most
 * GRAPHQL_LIMITS.maxTokens tokens), the transport's operations (no subscription
 * over HTTP), the rules (validation, then the checks that need variables), the
 * transport's own admission, the caller's context; then execution under the
 * request's origin (for the audit trail), error masking by errors.ts's
 * formatError, and the request and error metrics. The transports only speak
 * their protocol around it.
 */
export class OperationPipeline {
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly rules: OperationRules;
  private readonly context: PipelineOptions['context'];
  private readonly documents = new Map<string, DocumentNode>();
  readonly schema: GraphQLSchema;

  constructor(options: PipelineOptions) {
    ({ schema: this.schema, rules: this.rules, metrics: this.metrics, logger: this.logger, context: this.context } = options);
  }

  /**
   * Everything before execution. Refusals: GRAPHQL_PARSE_FAILED, BAD_REQUEST (a subscription
   * over HTTP), GRAPHQL_VALIDATION_FAILED, OPERATION_RESOLUTION_FAILURE (no operation of that
   * name), a check's or the transport's own code, all with status 400 unless the error names
   * another; a context that failed is masked (500). Counts the operation once it parsed (or as
   * unknown), and its refusal.
   */
  async prepare(request: OperationRequest, caller: Caller): Promise<Prepared> {
    const { transport } = caller;
    let document: DocumentNode;
    try {
      document = this.parse(request.query);
    } catch (error) {
      const refusal = tooDeep(error) ?? error;
      if (!(refusal instanceof GraphQLError)) throw error;
      this.metrics.requested(transport, UNKNOWN_OPERATION);
      return this.refuse(caller, UNKNOWN_OPERATION, [withCode(refusal, RequestErrorCode.ParseFailed)]);
    }
    const operation = describeOperation(this.schema, document, request.operationName);
    this.metrics.requested(transport, operation);
    const refuse = (errors: GraphQLError[], status?: number) => this.refuse(caller, operation, errors, status);

    // Before validation: graphql-js's subscription rule throws on an @include whose variable is missing.
    if (transport === 'http' && hasSubscription(document)) return refuse([badRequest(SUBSCRIPTIONS_OVER_HTTP)]);
    let invalid: readonly GraphQLError[];
    try {
      invalid = validate(this.schema, document, this.rules.validation);
    } catch (error) {
      const refusal = tooDeep(error) ?? error;
      if (!(refusal instanceof GraphQLError)) throw error;
      invalid = [refusal];
    }
    if (invalid.length) return refuse(invalid.map((e) => withCode(e, RequestErrorCode.ValidationFailed)));
    const chosen = getOperationAST(document, request.operationName);
    if (!chosen) return refuse([unresolved(request.operationName)]);

    const checked = { schema: this.schema, document, variables: request.variables, operationName: request.operationName };
    for (const check of [...this.rules.checks, () => caller.admit?.(chosen) ?? null]) {
      const error = check(checked);
      if (error) return refuse([error]);
    }
    let contextValue: Context;
    try {
      contextValue = await this.context(caller.client);
    } catch (error) {
      // The original is logged by formatError, under the request's id, and masked.
      return refuse([new GraphQLError('Internal server error', { originalError: error instanceof Error ? error : new Error(String(error)) })], 500);
    }
    const args: OperationArgs = { schema: this.schema, document, operationName: request.operationName, variableValues: request.variables, contextValue };
    return { ok: true, args, operation };
  }

  /** Runs a query or mutation as its request (its origin on every audit entry it writes). */
  execute(args: OperationArgs): Promise<ExecutionResult> {
    return withOrigin(args.contextValue.client, async () => execute(args));
  }

  /**
   * Starts a subscription as its request: runs its root field's `subscribe`
   * (who may listen, to what) and returns the feed the live hub delivers, or
   * the errors that refused it.
   */
  async subscribe(args: OperationArgs): Promise<ExecutionResult | LiveFeed> {
    const source = await withOrigin(args.contextValue.client, () => createSourceEventStream(args));
    if (source instanceof LiveFeed) return source;
    if (Symbol.asyncIterator in source) throw new Error('a subscription field must return a LiveFeed');
    return source;
  }

  /**
   * What the client sees of `errors` (errors.ts's formatError, masked ones naming the request id,
   * without suggestions unless the rules allow them), counted as errors of `operation`.
   */
  format(transport: Transport, origin: RequestOrigin, operation: OperationLabels, errors: readonly GraphQLError[]): GraphQLFormattedError[] {
    const formatted = withOrigin(origin, () =>
      errors.map((e) => {
        const shown = formatError(e.toJSON(), e, this.logger);
        return this.rules.suggestions ? shown : { ...shown, message: withoutSuggestions(shown.message) };
      }),
    );
    this.metrics.failed(transport, operation, formatted);
    return formatted;
  }

  /**
   * The operation's document, parsed once for every request with the same text
   * while it is among the last PARSED_DOCUMENTS: a thousand dashboards that
   * subscribe with the same operation hold one document (and the live hub sees
   * them as one operation).
   */
  private parse(query: string): DocumentNode {
    const known = this.documents.get(query);
    if (known) return known;
    const document = parse(query, parseOptions);
    this.documents.set(query, document);
    if (this.documents.size > PARSED_DOCUMENTS) this.documents.delete(this.documents.keys().next().value!);
    return document;
  }

  private refuse(caller: Caller, operation: OperationLabels, errors: GraphQLError[], status?: number): Prepared {
    const formatted = this.format(caller.transport, caller.client, operation, errors);
    return { ok: false, errors, formatted, status: status ?? httpStatusOf(errors) ?? 400 };
  }
}

/** The status an error asks for (`extensions.http.status`, e.g. 429 with Retry-After, 405), if any does. */
export function httpStatusOf(errors: readonly GraphQLError[]): number | undefined {
  for (const error of errors) {
    const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number') return status;
  }
  return undefined;
}

/** BAD_REQUEST: not a request this transport carries. */
export const badRequest = (message: string, http?: { status: number; headers?: Map<string, string> }) =>
  new GraphQLError(message, { extensions: { code: RequestErrorCode.BadRequest, ...(http ? { http } : {}) } });

/**
 * graphql-js parses and walks some parts of a document recursively: within the token limit,
 * a list literal nested a thousand deep (`[[[[...`) still runs out of stack. That is the
 * client's operation being too deep, refused like one, never a crash of ours.
 */
function tooDeep(error: unknown): GraphQLError | null {
  return error instanceof RangeError ? new GraphQLError('The operation is nested too deeply') : null;
}

function hasSubscription(document: DocumentNode): boolean {
  return document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === OperationTypeNode.SUBSCRIPTION);
}

/** graphql-js's own messages for a document with no operation of that name. */
function unresolved(operationName: string | null | undefined): GraphQLError {
  const message = operationName ? `Unknown operation named "${operationName}".` : 'Must provide operation name if query contains multiple operations.';
  return new GraphQLError(message, { extensions: { code: RequestErrorCode.OperationResolutionFailed } });
}
