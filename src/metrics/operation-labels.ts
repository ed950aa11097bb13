import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';

/** The label value for what the schema cannot name: a request that did not parse, an unknown field. Never a GraphQL name. */
export const UNKNOWN = '(unknown)';

/** The fields every type answers; not in `getFields()`, but as bounded as the schema's own. */
const META_FIELDS = new Set(['__typename', '__schema', '__type']);

/**
 * How an operation appears in metric labels: only names the schema defines,
 * never the client's operation name or aliases, so that a client cannot add
 * label values (and an attacker cannot grow the metrics without bound).
 */
export interface OperationLabels {
  /** query, mutation, subscription; UNKNOWN when the request did not parse or its operation cannot be picked. */
  readonly type: string;
  /** The distinct root fields it asks for, by their schema names; [UNKNOWN] when none is known. */
  readonly fields: readonly string[];
  /** The root field behind a response key (an alias or a field name), e.g. an error path's first element. */
  fieldOf(responseKey: unknown): string;
}

export const UNKNOWN_OPERATION: OperationLabels = { type: UNKNOWN, fields: [UNKNOWN], fieldOf: () => UNKNOWN };

/**
 * The labels of the operation that `operationName` picks in `document`, as
 * graphql-js would run it. Root fields spread through fragments count; a field
 * the schema's root type lacks (the request then fails validation) is UNKNOWN.
 */
export function describeOperation(schema: GraphQLSchema, document: DocumentNode | undefined, operationName?: string | null): OperationLabels {
  const operation = document && getOperationAST(document, operationName);
  if (!document || !operation) return UNKNOWN_OPERATION;
  const rootFields = schema.getRootType(operation.operation)?.getFields() ?? {};
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const byKey = new Map<string, string>();
  const collect = (selectionSet: SelectionSetNode, seen: Set<string>) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const known = Object.hasOwn(rootFields, name) || META_FIELDS.has(name);
        byKey.set(selection.alias?.value ?? name, known ? name : UNKNOWN);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet, seen);
      } else if (!seen.has(selection.name.value)) {
        // `seen`: a fragment cycle is invalid, but is reported by validation, not looped on here.
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet, seen);
      }
    }
  };
  collect(operation.selectionSet, new Set());
  const fields = [...new Set(byKey.values())];
  return {
    type: operation.operation,
    fields: fields.length ? fields : [UNKNOWN],
    fieldOf: (responseKey) => byKey.get(String(responseKey)) ?? UNKNOWN,
  };
}
