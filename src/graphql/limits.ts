import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  getOperationAST,
  isListType,
  isNonNullType,
  Kind,
  OperationTypeNode,
  specifiedRules,
  visit,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type GraphQLOutputType,
  type GraphQLSchema,
  type ParseOptions,
  type SelectionNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { MAX_PAGE_SIZE } from '../common/pagination';
import { textFault } from '../common/text';
import { ErrorCode, RequestErrorCode } from '../errors';

/**
 * What one GraphQL operation may ask for, the same over HTTP and graphql-ws.
 * Page sizes (`first`, at most 100) are checked by the resolvers.
 */
export const GRAPHQL_LIMITS = {
  /** Tokens the parser reads before giving up (GRAPHQL_PARSE_FAILED). */
  maxTokens: 2_000,
  /** Nesting of fields; fragments count as their fields. Introspection is left to graphql-js's own MaxIntrospectionDepthRule. */
  maxDepth: 10,
  maxAliases: 15,
  maxDirectives: 20,
  /**
   * See `estimateCost`. The default inbox page (20 threads, their participants and 50
   * messages each) costs about 10,000; 100 threads of 100 messages about 30,000.
   */
  maxCost: 20_000,
} as const;

/** A list without a `first` argument (participants, members, ...) is counted as this many items. */
const ASSUMED_LIST_LENGTH = 10;

export const parseOptions: ParseOptions = { maxTokens: GRAPHQL_LIMITS.maxTokens };

/** The armor rules throw unless told otherwise, which would fail the request as an internal error. */
const reportInstead = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
  ],
};

/**
 * The spec's rule that a subscription has exactly one root field, which no
 * @skip or @include may take away. graphql-js 16 checks the count but not the
 * directives, and its executor then crashes on a subscription with no field.
 */
const noConditionalSubscriptionRoot: ValidationRule = (context) => {
  // `seen`: fragments already looked into (a cycle is reported by graphql-js's own rule).
  const conditional = (selections: readonly SelectionNode[], seen: Set<string>): SelectionNode | undefined => {
    for (const selection of selections) {
      if (selection.directives?.some((d) => d.name.value === 'skip' || d.name.value === 'include')) return selection;
      let inner: readonly SelectionNode[] | undefined;
      if (selection.kind === Kind.INLINE_FRAGMENT) inner = selection.selectionSet.selections;
      if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        inner = context.getFragment(selection.name.value)?.selectionSet.selections;
      }
      const found = inner && conditional(inner, seen);
      if (found) return found;
    }
    return undefined;
  };
  return {
    OperationDefinition(node) {
      if (node.operation !== OperationTypeNode.SUBSCRIPTION) return;
      const found = conditional(node.selectionSet.selections, new Set());
      if (found) context.reportError(new GraphQLError("A subscription's root field cannot take @skip or @include", { nodes: found }));
    },
  };
};

/** A valid operation with the variables it was sent with. */
export interface CheckedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables: Record<string, unknown> | null | undefined;
  operationName: string | null | undefined;
}

/** A limit that needs the variables: the operation's refusal (with its code), or null. */
export type OperationCheck = (operation: CheckedOperation) => GraphQLError | null;

/**
 * Every rule an operation meets before it runs, over HTTP and graphql-ws alike
 * (the pipeline applies this one list; a rule added here is refused on both).
 * `validation` runs first, as graphql-js validation (GRAPHQL_VALIDATION_FAILED
 * unless a rule's error has a code of its own); `checks` run in order once the
 * operation is valid, and the first error refuses it.
 */
export interface OperationRules {
  validation: readonly ValidationRule[];
  checks: readonly OperationCheck[];
  /**
   * Whether error messages may end with graphql-js's "Did you mean ...?", which
   * names fields, arguments, types and enum values of the schema: only where
   * introspection shows them anyway.
   */
  suggestions: boolean;
}

/**
 * graphql-js's specified rules plus depth, aliases, directives and the subscription
 * root rule; without introspection, `__schema` and `__type` are refused as unknown
 * fields, and no error suggests a name. Then the text and cost checks.
 */
export function operationRules({ introspection }: { introspection: boolean }): OperationRules {
  return {
    validation: [
      ...specifiedRules,
      maxDepthRule({ n: GRAPHQL_LIMITS.maxDepth, flattenFragments: true, ignoreIntrospection: true, ...reportInstead }),
      maxAliasesRule({ n: GRAPHQL_LIMITS.maxAliases, ...reportInstead }),
      maxDirectivesRule({ n: GRAPHQL_LIMITS.maxDirectives, ...reportInstead }),
      noConditionalSubscriptionRoot,
      ...(introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ],
    checks: [({ document, variables }) => textError(document, variables), ({ schema, document, variables, operationName }) => costError(schema, document, variables, operationName)],
    suggestions: introspection,
  };
}

/** `message` without the "Did you mean ...?" that graphql-js ends it with when it has names to suggest. */
export function withoutSuggestions(message: string): string {
  return message.replace(/ Did you mean .*\?$/s, '');
}

/**
 * One per field, plus its children times the page it asks for: `first` when
 * given (or its default), an assumed length for other lists. Introspection
 * fields count once each; their nesting is capped by graphql-js.
 */
const estimateCost: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  if (type.name.startsWith('__')) return 1 + childComplexity;
  return 1 + itemsAsked(type.name, field.type, args) * childComplexity;
};

function itemsAsked(parent: string, type: GraphQLOutputType, args: Record<string, unknown>): number {
  // Out-of-range pages are refused by the resolver, with a clearer message than a cost.
  if (typeof args.first === 'number') return Math.min(Math.max(args.first, 0), MAX_PAGE_SIZE);
  // A connection's edges are the page that its own field's `first` asked for, counted there.
  if (parent.endsWith('Connection')) return 1;
  return isListType(isNonNullType(type) ? type.ofType : type) ? ASSUMED_LIST_LENGTH : 1;
}

/**
 * What the checks learn of a document that holds for every request sending it
 * (the pipeline's parse cache hands the same document out again): the fault in
 * its literal texts, if any; and its cost per operation, when no variable can
 * change it (none gives a `first`, nor a directive's argument).
 */
interface DocumentFacts {
  literalFault: string | null;
  fixedCost: boolean;
  costs: Map<string, number>;
}

const documentFacts = new WeakMap<DocumentNode, DocumentFacts>();

function factsOf(document: DocumentNode): DocumentFacts {
  let facts = documentFacts.get(document);
  if (facts) return facts;
  let literalFault: string | null = null;
  let fixedCost = true;
  visit(document, {
    StringValue(node) {
      literalFault ??= textFault(node.value);
    },
    Argument(node) {
      if (node.name.value === 'first' && node.value.kind === Kind.VARIABLE) fixedCost = false;
    },
    Directive(node) {
      if (node.arguments?.some((argument) => argument.value.kind === Kind.VARIABLE)) fixedCost = false;
    },
  });
  documentFacts.set(document, (facts = { literalFault, fixedCost, costs: new Map() }));
  return facts;
}

/**
 * The cost error for an operation over the limit, or null. Bad variables are
 * left to execution, which reports them with their own message.
 */
export function costError(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  operationName: string | null | undefined,
): GraphQLError | null {
  // An unknown or ambiguous operation is left to execution to report (graphql-query-complexity
  // would crash on an anonymous operation when a name is given).
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  const facts = factsOf(document);
  let cost = facts.fixedCost ? facts.costs.get(operation.name?.value ?? '') : undefined;
  if (cost === undefined) {
    try {
      cost = getComplexity({ schema, query: document, variables: variables ?? undefined, operationName: operation.name?.value, estimators: [estimateCost] });
    } catch (error) {
      if (error instanceof GraphQLError) return null;
      throw error;
    }
    if (facts.fixedCost) facts.costs.set(operation.name?.value ?? '', cost);
  }
  if (cost <= GRAPHQL_LIMITS.maxCost) return null;
  return new GraphQLError(`Query cost ${cost} is over the limit of ${GRAPHQL_LIMITS.maxCost}; ask for smaller pages or fewer fields`, {
    extensions: { code: RequestErrorCode.ValidationFailed, http: { status: 400 } },
  });
}

/**
 * BAD_USER_INPUT when any text of the operation, in its literals or its
 * variables (keys included), holds a NUL character or a lone UTF-16
 * surrogate: no field means either, so every text input is refused whole
 * here, before any resolver runs.
 */
export function textError(document: DocumentNode, variables: Record<string, unknown> | null | undefined): GraphQLError | null {
  const fault = factsOf(document).literalFault ?? faultIn(variables);
  return fault ? new GraphQLError(fault, { extensions: { code: ErrorCode.BadUserInput, http: { status: 400 } } }) : null;
}

function faultIn(value: unknown): string | null {
  if (typeof value === 'string') return textFault(value);
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const fault = textFault(key) ?? faultIn(item);
      if (fault) return fault;
    }
  }
  return null;
}
