import {
  getOperationAST,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { Extensions, getMetadataStorage } from 'type-graphql';

/**
 * Whose answer a field's value is, in a live delivery, among the recipients of
 * one event who share an operation, its variables and their kind:
 * - shared: the same for all of them (a plain property of the value above it,
 *   or a resolver declared so);
 * - author: differs only between the event's author and the others;
 * - viewer: each viewer's own (a resolver that reads who asks, or records it).
 */
export type Audience = 'shared' | 'author' | 'viewer';

const RANK: Record<Audience, number> = { shared: 0, author: 1, viewer: 2 };
const EXTENSION = 'liveAudience';

/**
 * Declares a field resolver's audience. A field resolver that does not is the
 * viewer's own: a new resolver is never shared by mistake.
 */
export const LiveAudience = (audience: Exclude<Audience, 'viewer'>) => Extensions({ [EXTENSION]: audience });

/** Marks a field of a built schema as each viewer's own (e.g. one whose read is audited against the viewer). */
export function answeredPerViewer(field: GraphQLField<unknown, unknown>): void {
  (field as { extensions: Record<string, unknown> }).extensions = { ...field.extensions, [EXTENSION]: 'viewer' };
}

/**
 * The widest audience of the fields `operationName` of `document` selects
 * below its root field (the root value is the feed's, keyed per viewer by it):
 * how finely its recipients must be grouped so that each gets their own answer.
 */
export function operationAudience(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): Audience {
  const resolvers = fieldResolvers();
  const typeInfo = new TypeInfo(schema);
  const subscription = schema.getSubscriptionType();
  let audience: Audience = 'shared';
  const operation = getOperationAST(document, operationName);
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  for (const definition of [operation, ...fragments]) {
    if (!definition) continue;
    visit(
      definition,
      visitWithTypeInfo(typeInfo, {
        Field() {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          if (!parent || !field || parent === subscription) return;
          const declared = field.extensions[EXTENSION] as Audience | undefined;
          const own = declared ?? (resolvers.has(`${parent.name}.${field.name}`) ? 'viewer' : 'shared');
          if (RANK[own] > RANK[audience]) audience = own;
        },
      }),
    );
  }
  return audience;
}

let known: Set<string> | null = null;

/** "Type.field" of every field that type-graphql resolves with a @FieldResolver method (rather than reading a property). */
function fieldResolvers(): Set<string> {
  if (known) return known;
  const storage = getMetadataStorage();
  const nameOf = (target: Function) => storage.objectTypes.find((t) => t.target === target)?.name;
  known = new Set();
  for (const resolver of storage.fieldResolvers) {
    const target = resolver.getObjectType?.() ?? resolver.resolverClassMetadata?.getObjectType();
    const typeName = target && nameOf(target as Function);
    if (typeName) known.add(`${typeName}.${resolver.schemaName}`);
  }
  return known;
}
