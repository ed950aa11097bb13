import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import {
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  GraphQLNonNull,
} from 'graphql';
import WebSocket from 'ws';

/**
 * Helpers for test/fuzz.test.ts: random operations built from the schema, random
 * strings and JSON, garbage Authorization headers, a raw graphql-ws socket, and
 * the check that a text shows nothing of the server's insides.
 */

// ---------------------------------------------------------------------------------------------
// The real process

/**
 * Node's own `process`. Inside a jest test `process` is a copy whose `on` never hears of
 * the real process's events; a function of the host realm (any core module's constructor
 * chain leads to the host's `Function`) still reaches the real one.
 */
export function hostProcess(): NodeJS.Process {
  const HostFunction = (EventEmitter as unknown as { constructor: FunctionConstructor }).constructor;
  return HostFunction('return process')() as NodeJS.Process;
}

// ---------------------------------------------------------------------------------------------
// Leaks

/** What a stack trace, a source path or an exception dump looks like in a response. */
const LEAK_PATTERNS: RegExp[] = [
  /stacktrace/gi,
  /"exception"\s*:/g,
  /\n\s+at /g, // a stack frame line, raw
  /\\n\s+at /g, // the same inside a JSON string
  / {4}at /g,
  /\bat [\w$.<>]+ \(/g, // "at fn ("
  /\bat (?:\/|node:|file:)/g, // "at /path/file.js:1:2"
  /\.(?:ts|js|cjs|mjs):\d+/g,
  /\/src\//g,
  /node_modules/g,
];

/**
 * The pieces of `text` that look like a stack trace, a source path or an exception dump,
 * except those that are only an echo of what the client sent (an error message may quote
 * a variable's value or an unknown field's name): `sent` is everything that was sent.
 */
export function leaks(text: string, sent: string, projectRoot = process.cwd()): string[] {
  const found: string[] = [];
  const patterns = [...LEAK_PATTERNS, new RegExp(escapeRegExp(projectRoot), 'g')];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      if (!sent.includes(match[0]) && !sent.includes(JSON.stringify(match[0]).slice(1, -1))) {
        found.push(text.slice(Math.max(0, match.index - 40), match.index + match[0].length + 40));
      }
    }
  }
  return found;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------------
// Drawing values inside a property (fc.gen), so that the schema walk can be written as code

export interface Draw {
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** One of the branches, by weight. */
  weighted<T>(...branches: [weight: number, make: () => T][]): T;
  from<T>(arbitrary: fc.Arbitrary<T>): T;
}

/** Uniform (fc's bias towards small values would skew every weight below). */
const uniform = fc.noBias(fc.integer({ min: 0, max: 2 ** 31 - 1 }));
const uniformBuilder = () => uniform;
/**
 * fc.gen caches arbitraries by builder and compares builders' arguments deeply, so every
 * arbitrary gets one argument-less builder of its own: `from` must be given arbitraries
 * built once (module constants), not new ones per call.
 */
const builders = new WeakMap<fc.Arbitrary<unknown>, () => fc.Arbitrary<unknown>>();
function builderOf<T>(arbitrary: fc.Arbitrary<T>): () => fc.Arbitrary<T> {
  let builder = builders.get(arbitrary);
  if (!builder) builders.set(arbitrary, (builder = () => arbitrary));
  return builder as () => fc.Arbitrary<T>;
}

export function draw(g: fc.GeneratorValue): Draw {
  const int = (min: number, max: number) => min + (g(uniformBuilder) % (max - min + 1));
  return {
    int,
    chance: (p) => int(0, 9_999) < p * 10_000,
    pick: (items) => items[int(0, items.length - 1)],
    weighted: (...branches) => {
      let roll = int(0, branches.reduce((sum, [w]) => sum + w, 0) - 1);
      for (const [weight, make] of branches) {
        if (roll < weight) return make();
        roll -= weight;
      }
      return branches[branches.length - 1][1]();
    },
    from: (arbitrary) => g(builderOf(arbitrary)),
  };
}

// ---------------------------------------------------------------------------------------------
// Strings, numbers and JSON

/** Strings that have broken servers before: empty, NUL, lone surrogates, direction marks, injections, numbers as text. */
export const SPECIAL_STRINGS = [
  '',
  ' ',
  '   ',
  '\t\n\r',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff\ud800y',
  '\u202e\u202dabc',
  '\u200b',
  '\ufeff',
  '\u0085\u2028\u2029',
  'null',
  'undefined',
  'NaN',
  'true',
  '0',
  '-1',
  '1e309',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  "'; DROP TABLE users; --",
  '" OR 1=1 --',
  '\\',
  '%s%s%n%x',
  '${7*7}{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '😀',
  '👩🏽‍⚕️👨‍👩‍👧',
  'Z̸̧̛̗a̴̡̛͎l̶̨̛̙g̷̢̛̘o̵̧̲',
  'ﷺ𒐫',
  '𝕳𝖊𝖑𝖑𝖔',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'W10', // base64url of "[]"
  'WyJhIl0', // base64url of ["a"]
  'WzEsMl0', // base64url of [1,2]
  'WyIyMDI2LTAxLTAxIiwxXQ', // base64url of ["2026-01-01",1]
  'eyJhbGciOiJub25lIn0.e30.',
];

/** Ints at and around every boundary the server has: page sizes, 32-bit, 53-bit. */
export const SPECIAL_INTS = [0, 1, -1, 2, 20, 49, 50, 51, 99, 100, 101, 1000, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e21];

const shortString = fc.oneof(
  { arbitrary: fc.string({ maxLength: 24 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 24 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 24 }), weight: 1 },
  { arbitrary: fc.constantFrom(...SPECIAL_STRINGS), weight: 3 },
);

const longString = fc
  .tuple(fc.integer({ min: 201, max: 12_000 }), fc.constantFrom('x', ' ', 'é', '😀', 'ab\u0000', '\\"', '\n'))
  .map(([n, unit]) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n));

/** Any string: mostly short and odd, sometimes long (past the 200 and 10 000 character limits). */
export const anyString: fc.Arbitrary<string> = fc.oneof({ arbitrary: shortString, weight: 12 }, { arbitrary: longString, weight: 1 });

export const anyInt: fc.Arbitrary<number> = fc.oneof(fc.constantFrom(...SPECIAL_INTS), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));

/** Any JSON value: scalars, arrays, objects, nested. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 4 },
  { arbitrary: fc.constantFrom(null, 0, -1, 1.5, true, false, '', [], {}, [[]], [{}], { query: null }), weight: 2 },
  { arbitrary: anyString, weight: 2 },
  { arbitrary: anyInt, weight: 1 },
);

/** A name that the schema does not have (or sometimes does, in the wrong place). */
export const anyDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
export const anyUuid = fc.uuid();

export const anyName: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[_A-Za-z][_0-9A-Za-z]{0,11}$/),
  fc.constantFrom('__schema', '__type', '__typename', 'id', 'password', 'passwordHash', 'email', 'token', 'secret', 'User', 'Query', 'on', 'fragment', 'null', 'true'),
);

/** What a header value may hold and fetch sends: tab, printable ASCII and latin-1 (no controls). */
const headerSafe = (maxLength: number) => fc.string({ unit: 'binary-ascii', maxLength }).map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').trim());
export const shortHeaderValue = headerSafe(40);
export const headerValue = headerSafe(60);

// ---------------------------------------------------------------------------------------------
// Operations built from the schema

export interface Pools {
  /** Real ids of the world (users, a team, a thread, a message), for arguments that then reach real rows. */
  ids: string[];
  /** Valid tokens, used as `Bearer <token>`. */
  tokens: string[];
  /** Tokens signed with the right key whose subject, issuer or expiry is wrong. */
  forgedTokens: string[];
}

export interface GeneratedOperation {
  query: string;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

export type OperationKind = 'query' | 'mutation' | 'subscription';

type Mode = 'plain' | 'aliases' | 'deep' | 'directives' | 'fragments' | 'garbage';

interface Variable {
  name: string;
  declaredType: string;
  defaultValue?: string;
  value?: unknown;
  provided: boolean;
  declared: boolean;
}

/**
 * A random operation for the schema. Half of them are valid GraphQL whose arguments and
 * variables have the right types but odd values (real and random ids, unicode, NUL, long
 * strings, huge or negative numbers), so that they reach the resolvers; the other half
 * also has wrong types, unknown fields and arguments, many aliases, deep nesting, many
 * directives, fragment cycles, and syntax that is cut off or corrupted.
 */
export function generateOperation(d: Draw, schema: GraphQLSchema, pools: Pools, kinds: OperationKind[] = ['query', 'query', 'query', 'mutation', 'mutation', 'subscription']): GeneratedOperation {
  return new OperationWriter(d, schema, pools, d.chance(0.5)).write(d.pick(kinds));
}

/** 32-bit, so that a literal passes validation: the resolvers then see 0, negative and huge page sizes. */
const int32 = fc.oneof(fc.constantFrom(...SPECIAL_INTS.filter((n) => n === (n | 0))), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));

class OperationWriter {
  private readonly variables: Variable[] = [];
  private readonly fragments: string[] = [];
  private mode: Mode = 'plain';
  private aliases = 0;

  /** `valid`: only valid GraphQL with values of the right types; otherwise anything goes. */
  constructor(
    private readonly d: Draw,
    private readonly schema: GraphQLSchema,
    private readonly pools: Pools,
    private readonly valid: boolean,
  ) {}

  /** The weight of a branch that makes the operation invalid: none when it must be valid. */
  private bad(weight: number): number {
    return this.valid ? 0 : weight;
  }

  write(kind: OperationKind): GeneratedOperation {
    const d = this.d;
    this.mode = this.valid
      ? d.weighted<Mode>([85, () => 'plain'], [15, () => 'fragments'])
      : d.weighted<Mode>([52, () => 'plain'], [10, () => 'aliases'], [10, () => 'deep'], [10, () => 'directives'], [10, () => 'fragments'], [8, () => 'garbage']);
    if (this.mode === 'garbage') return { query: this.garbageDocument(), variables: d.chance(0.5) ? d.from(anyJson) : undefined };

    const root = (kind === 'query' ? this.schema.getQueryType() : kind === 'mutation' ? this.schema.getMutationType() : this.schema.getSubscriptionType())!;
    const selection = this.rootSelection(root);
    const name = d.chance(0.4) ? d.pick(['Op', 'Fuzz', 'A', 'query', 'subscription']) : null;
    const declarations = this.variables.filter((v) => v.declared);
    const header =
      kind +
      (name ? ` ${name}` : '') +
      (declarations.length ? `(${declarations.map((v) => `$${v.name}: ${v.declaredType}${v.defaultValue ? ` = ${v.defaultValue}` : ''}`).join(', ')})` : '') +
      (!this.valid && d.chance(0.03) ? ' @include(if: true)' : '');
    const shorthand = kind === 'query' && !name && !declarations.length && d.chance(0.5);
    let query = (shorthand ? selection : `${header} ${selection}`) + this.fragments.map((f) => `\n${f}`).join('');
    if (!this.valid && d.chance(0.04)) query += d.pick(['\nquery Other { __typename }', '\n{ __typename }', `\nmutation ${name ?? 'Op'} { __typename }`, '\nsubscription S { threadActivity { kind } }']);
    if (!this.valid && d.chance(0.1)) query = this.corrupt(query);

    const values: Record<string, unknown> = {};
    for (const v of this.variables) if (v.provided) values[v.name] = v.value;
    const variables = d.weighted<unknown>(
      [80, () => (this.variables.length || d.chance(0.5) ? values : undefined)],
      [this.bad(6), () => d.from(anyJson)],
      [this.bad(4), () => ({ ...values, [d.from(anyName)]: d.from(anyJson) })],
      [this.bad(2), () => JSON.stringify(values)],
    );
    const operationName = d.weighted<unknown>(
      [70, () => (name && d.chance(0.6) ? name : undefined)],
      [this.bad(20), () => d.pick(['Op', 'Nope', '', 'Other', 'S'])],
      [this.bad(10), () => d.from(anyJson)],
    );
    const extensions = d.weighted<unknown>(
      [90, () => undefined],
      [this.bad(4), () => d.from(anyJson)],
      [this.bad(6), () => ({ persistedQuery: d.weighted<unknown>([3, () => ({ version: 1, sha256Hash: d.from(anyString) })], [1, () => ({ version: d.from(anyJson) })], [1, () => d.from(anyJson)]) })],
    );
    return { query, variables, operationName, extensions };
  }

  private rootSelection(root: GraphQLCompositeType): string {
    const d = this.d;
    switch (this.mode) {
      case 'aliases': {
        const field = this.field(root, d.int(0, 2));
        const count = d.int(10, 300);
        const alias = d.chance(0.9);
        return `{ ${Array.from({ length: count }, (_, i) => (alias ? `a${i}: ${field}` : field)).join(' ')} }`;
      }
      case 'deep':
        return this.selectionSet(root, d.int(8, 60), 1);
      case 'fragments': {
        const parts = [this.selectionSet(root, 2).slice(1, -1)];
        const count = d.int(1, 3);
        for (let i = 0; i < count; i++) {
          const on = this.valid || d.chance(0.6) ? root : this.randomCompositeType();
          // Valid: a fragment spreads only earlier ones, so there is no cycle.
          const spread = this.valid ? (i > 0 && d.chance(0.4) ? ` ...F${d.int(0, i - 1)}` : '') : d.chance(0.4) ? ` ...F${d.int(0, count)}` : '';
          const typeName = !this.valid && d.chance(0.05) ? d.from(anyName) : on.name;
          this.fragments.push(`fragment F${i} on ${typeName} ${this.selectionSet(on, 1).slice(0, -1)}${spread} }`);
          if (this.valid || d.chance(0.8)) parts.push(`...F${i}`);
        }
        if (!this.valid && d.chance(0.1)) parts.push(`...${d.from(anyName)}`);
        if (!this.valid && d.chance(0.1)) parts.push(`... on ${d.chance(0.5) ? root.name : d.from(anyName)} { __typename }`);
        return `{ ${parts.join(' ')} }`;
      }
      default:
        return this.selectionSet(root, d.int(0, 4));
    }
  }

  /** `{ ... }` for a composite type; `breadth` fields (1 to 3 when not given). */
  private selectionSet(type: GraphQLCompositeType, depth: number, breadth?: number): string {
    const d = this.d;
    const count = breadth ?? d.int(1, 3);
    const parts: string[] = [];
    for (let i = 0; i < count; i++) {
      parts.push(
        d.weighted(
          [4, () => '__typename'],
          [this.bad(3), () => `${d.from(anyName)}${d.chance(0.3) ? '(x: 1)' : ''}`],
          [isUnionType(type) ? 200 : this.bad(1), () => this.inlineFragment(type, depth)],
          [isUnionType(type) ? 0 : 100, () => this.field(type, depth)],
        ),
      );
    }
    return `{ ${parts.join(' ')} }`;
  }

  private inlineFragment(type: GraphQLCompositeType, depth: number): string {
    const d = this.d;
    const members = isUnionType(type) ? type.getTypes() : [type];
    const on = this.valid || d.chance(0.9) ? d.pick(members) : this.randomCompositeType();
    return `... on ${on.name}${this.directives()} ${this.selectionSet(on, depth - 1)}`;
  }

  /** One field of `type` with its arguments, directives and selection. */
  private field(type: GraphQLCompositeType, depth: number): string {
    const d = this.d;
    if (isUnionType(type)) return this.inlineFragment(type, depth);
    const fields = Object.values(type.getFields());
    const composite = fields.filter((f) => isCompositeType(getNamedType(f.type)));
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
    const pool = this.mode === 'deep' && depth > 0 && composite.length ? composite : depth <= 0 && leaves.length && d.chance(0.8) ? leaves : fields;
    const field = d.pick(pool);
    // Valid: a field with arguments gets an alias of its own, so that two selections of it never conflict.
    const alias = this.valid ? (field.args.length || d.chance(0.1) ? `f${this.aliases++}: ` : '') : d.chance(0.1) ? `${d.pick(['a', 'b', 'id', 'x'])}: ` : '';
    const named = getNamedType(field.type);
    let selection = '';
    if (isCompositeType(named)) {
      if (this.valid || !d.chance(0.03)) selection = ' ' + (depth > 0 ? this.selectionSet(named, depth - 1, this.mode === 'deep' ? 1 : undefined) : this.leafSelection(named));
    } else if (!this.valid && d.chance(0.02)) {
      selection = ' { id }';
    }
    return `${alias}${field.name}${this.args(field)}${this.directives()}${selection}`;
  }

  private leafSelection(type: GraphQLNamedType): string {
    if (isUnionType(type) || !isObjectType(type)) return '{ __typename }';
    const leaves = Object.values(type.getFields()).filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type)));
    return leaves.length ? `{ ${this.d.pick(leaves).name} }` : '{ __typename }';
  }

  private args(field: GraphQLField<unknown, unknown>): string {
    const d = this.d;
    const parts: string[] = [];
    for (const arg of field.args) {
      const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
      if ((required && this.valid) || d.chance(isNonNullType(arg.type) ? 0.92 : 0.45)) parts.push(`${arg.name}: ${this.value(arg.type, 3)}`);
    }
    if (!this.valid && d.chance(0.04)) parts.push(`${d.from(anyName)}: ${this.wrongLiteral()}`);
    if (!this.valid && parts.length > 1 && d.chance(0.02)) parts.push(parts[0]); // the same argument twice
    return parts.length ? `(${parts.join(', ')})` : '';
  }

  private directives(): string {
    const d = this.d;
    if (this.mode !== 'directives' && !d.chance(0.04)) return '';
    const count = this.mode === 'directives' && d.chance(0.3) ? d.int(20, 300) : this.valid ? 1 : d.int(1, 3);
    const boolean = this.schema.getType('Boolean') as GraphQLInputType;
    const one = () =>
      d.weighted(
        [5, () => `@${d.pick(['include', 'skip'])}(if: ${d.weighted([6, () => String(d.chance(0.5))], [2, () => this.variable(this.valid ? new GraphQLNonNull(boolean) : boolean, 1)], [this.bad(2), () => this.wrongLiteral()])})`],
        [this.bad(1), () => `@${d.pick(['include', 'skip'])}`],
        [this.bad(1), () => `@${d.pick(['deprecated', 'specifiedBy(url: "x")', 'oneOf'])}`],
        [this.bad(2), () => `@${d.from(anyName)}${d.chance(0.5) ? `(x: ${this.wrongLiteral()})` : ''}`],
      );
    return ' ' + Array.from({ length: count }, one).join(' ');
  }

  /** An argument value: a fitting literal, a variable, a literal of the wrong kind, or null. */
  private value(type: GraphQLInputType, budget: number): string {
    const d = this.d;
    return d.weighted(
      [62, () => this.literal(type, budget)],
      [20, () => this.variable(type, budget)],
      [this.bad(12), () => this.wrongLiteral()],
      [this.valid && isNonNullType(type) ? 0 : 6, () => 'null'],
    );
  }

  private literal(type: GraphQLInputType, budget: number): string {
    const d = this.d;
    if (isNonNullType(type)) return this.literal(type.ofType, budget);
    if (isListType(type)) {
      if (d.chance(0.25)) return this.literal(type.ofType, budget); // a single item where a list is expected is allowed
      return `[${Array.from({ length: d.int(0, budget > 0 ? 4 : 1) }, () => this.value(type.ofType, budget - 1)).join(', ')}]`;
    }
    if (isInputObjectType(type)) {
      const parts = Object.values(type.getFields())
        .filter((f) => (this.valid && isNonNullType(f.type) && f.defaultValue === undefined) || d.chance(isNonNullType(f.type) ? 0.9 : 0.5))
        .map((f) => `${f.name}: ${budget > 0 || (this.valid && isNonNullType(f.type)) ? this.value(f.type, budget - 1) : 'null'}`);
      if (!this.valid && d.chance(0.05)) parts.push(`${d.from(anyName)}: 1`);
      return `{ ${parts.join(', ')} }`;
    }
    if (isEnumType(type)) return this.valid || d.chance(0.9) ? d.pick(type.getValues()).name : d.from(anyName);
    return this.scalarLiteral(type.name);
  }

  private scalarLiteral(name: string): string {
    const d = this.d;
    switch (name) {
      case 'ID':
        return d.chance(0.85) ? this.stringLiteral(this.id()) : String(d.from(int32));
      case 'Int':
        return this.valid ? String(d.from(int32)) : d.chance(0.9) ? String(d.from(anyInt)) : d.pick(['1.5', '-0.0', '1e3', '"5"', '0x10']);
      case 'Float':
        return String(d.from(anyDouble));
      case 'Boolean':
        return this.valid || d.chance(0.9) ? String(d.chance(0.5)) : d.pick(['"true"', '1', 'TRUE']);
      case 'String':
        return this.stringLiteral(d.from(anyString));
      default:
        // Custom scalars (DateTime): whatever the scalar makes of a string.
        return this.stringLiteral(d.chance(0.5) ? new Date(d.int(0, 2 ** 31 - 1) * 1000).toISOString() : d.from(anyString));
    }
  }

  private stringLiteral(s: string): string {
    // JSON's escapes are GraphQL's (lone surrogates aside); sometimes a block string instead.
    if (!this.valid && this.d.chance(0.05) && !s.includes('"""')) return `"""${s}"""`;
    return JSON.stringify(this.valid ? wellFormed(s) : s);
  }

  private id(): string {
    const d = this.d;
    return d.weighted(
      [50, () => d.pick(this.pools.ids)],
      [15, () => d.from(anyUuid)],
      [10, () => {
        const id = d.pick(this.pools.ids);
        return d.pick([id.toUpperCase(), ` ${id}`, `${id} `, id.slice(0, -1), `${id}0`, id.replace(/-/g, ''), `${id}\u0000`]);
      }],
      [25, () => d.from(anyString)],
    );
  }

  private wrongLiteral(): string {
    const d = this.d;
    return d.weighted(
      [3, () => this.stringLiteral(d.from(anyString))],
      [3, () => String(d.from(anyInt))],
      [1, () => String(d.from(anyDouble))],
      [1, () => String(d.chance(0.5))],
      [1, () => d.from(anyName)],
      [1, () => '[1, "a", null, [true]]'],
      [1, () => `{ ${d.from(anyName)}: 1, id: "x" }`],
      [1, () => `$${d.from(anyName)}`], // a variable nobody declared
    );
  }

  /** A variable for a value of `type`: declared with that type (or not, when anything goes) and given a fitting value, or not. */
  private variable(type: GraphQLInputType, budget: number): string {
    const d = this.d;
    const name = `v${this.variables.length}`;
    const declaredType = d.weighted(
      [80, () => String(type)],
      [this.bad(10), () => this.randomInputTypeName()],
      [this.bad(5), () => d.pick(['User', 'Thread', 'RecipientOption', 'Query', '[[ID!]!]!', 'String!!'])],
      [this.bad(5), () => d.from(anyName)],
    );
    const provided = (this.valid && isNonNullType(type)) || d.chance(0.85);
    const value = d.weighted<unknown>([75, () => this.json(type, budget)], [this.bad(25), () => d.from(anyJson)]);
    const defaultValue = !this.valid && d.chance(0.05) ? this.literal(type, 1) : undefined;
    this.variables.push({ name, declaredType, defaultValue, value, provided, declared: this.valid || d.chance(0.97) });
    return `$${name}`;
  }

  /** A JSON value for a variable of `type`: fitting when the operation must be valid, mostly fitting otherwise. */
  private json(type: GraphQLInputType, budget: number, nullable = true): unknown {
    const d = this.d;
    if (isNonNullType(type)) return this.json(type.ofType, budget, !this.valid);
    if (nullable && d.chance(0.05)) return null;
    if (isListType(type)) {
      if (d.chance(0.2)) return this.json(type.ofType, budget);
      return Array.from({ length: d.int(0, budget > 0 ? 4 : 1) }, () => this.json(type.ofType, budget - 1));
    }
    if (isInputObjectType(type)) {
      const value: Record<string, unknown> = {};
      for (const f of Object.values(type.getFields())) {
        if ((this.valid && isNonNullType(f.type)) || d.chance(isNonNullType(f.type) ? 0.9 : 0.5)) value[f.name] = budget > 0 || this.valid ? this.json(f.type, budget - 1) : null;
      }
      if (!this.valid && d.chance(0.05)) value[d.from(anyName)] = d.from(anyJson);
      return value;
    }
    if (isEnumType(type)) return this.valid || d.chance(0.9) ? d.pick(type.getValues()).name : d.from(anyString);
    switch (type.name) {
      case 'ID':
        return d.chance(0.9) ? this.id() : d.from(int32);
      case 'Int':
        return this.valid ? d.from(int32) : d.chance(0.9) ? d.from(anyInt) : d.pick([1.5, '5', 1e300, -0]);
      case 'Float':
        return d.from(anyDouble);
      case 'Boolean':
        return this.valid || d.chance(0.9) ? d.chance(0.5) : d.pick(['true', 1, 0]);
      default:
        return d.from(anyString);
    }
  }

  private randomCompositeType(): GraphQLCompositeType {
    const types = Object.values(this.schema.getTypeMap()).filter((t): t is GraphQLCompositeType => isCompositeType(t) && !t.name.startsWith('__'));
    return this.d.pick(types);
  }

  private randomInputTypeName(): string {
    const names = Object.values(this.schema.getTypeMap())
      .filter((t) => (isInputObjectType(t) || isLeafType(t)) && !t.name.startsWith('__'))
      .map((t) => t.name);
    const name = this.d.pick(names);
    return this.d.pick([name, `${name}!`, `[${name}]`, `[${name}!]!`]);
  }

  /** Not GraphQL at all, or GraphQL nested far past any sane depth. */
  private garbageDocument(): string {
    const d = this.d;
    return d.weighted(
      [3, () => d.from(anyString)],
      [2, () => {
        const n = d.int(100, 20_000);
        return `{${'me{'.repeat(n)}id${'}'.repeat(n + 1)}`;
      }],
      [1, () => {
        const n = d.int(100, 20_000);
        return `{ thread(id: ${'['.repeat(n)}"x"${']'.repeat(n)}) { id } }`;
      }],
      [1, () => `{ recipients(search: ${'{a: '.repeat(d.int(10, 5_000))}1${'}'.repeat(5_000)}) { __typename } }`],
      [1, () => '{ __schema { types { name fields { name args { name type { name ofType { name ofType { name } } } } } } } }'],
      [1, () => d.pick(['', ' ', '#', '{', '}', '{}', 'query', 'query {', 'subscription', 'fragment F on User { id }', '{ ... }', '{ ...F }', '{ me { ...on } }', '"""'])],
    );
  }

  /** The document cut off, or with a character inserted, deleted or repeated. */
  private corrupt(query: string): string {
    const d = this.d;
    const at = d.int(0, query.length);
    return d.weighted(
      [3, () => query.slice(0, at)],
      [2, () => query.slice(0, at) + d.pick(['{', '}', '(', ')', '"', '$', '@', '...', ':', '!', '[', ']', '\u0000', '#', '\\', '\ud800', '"""']) + query.slice(at)],
      [1, () => query.slice(0, at) + query.slice(at + d.int(1, 20))],
      [1, () => query.slice(0, at) + query.slice(Math.max(0, at - 30), at) + query.slice(at)],
    );
  }
}

/** The string with lone surrogates replaced: JSON.stringify escapes them as \udXXX, which GraphQL's parser refuses. */
export const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

// ---------------------------------------------------------------------------------------------
// Authorization headers

/** No header, a valid bearer token, or garbage: malformed schemes, tampered, forged and oversized tokens. */
export function authorization(d: Draw, pools: Pools): string | undefined {
  const token = () => d.pick(pools.tokens);
  return d.weighted<string | undefined>(
    [30, () => undefined],
    [45, () => `Bearer ${token()}`],
    [25, () =>
      d.weighted(
        [3, () => d.from(shortHeaderValue)],
        [3, () => `Bearer ${d.from(headerValue)}`],
        [3, () => `Bearer ${d.pick(pools.forgedTokens)}`],
        [2, () => {
          const t = token();
          const at = d.int(0, t.length - 1);
          return `Bearer ${t.slice(0, at)}${t[at] === 'A' ? 'B' : 'A'}${t.slice(at + 1)}`; // one character changed
        }],
        [2, () => d.pick(['Bearer', 'Bearer ', 'bearer', 'Basic dXNlcjpwYXNzd29yZA==', 'Token abc', 'null', 'undefined', '[object Object]', 'Bearer null', 'Bearer undefined'])],
        [2, () => d.pick([token(), `bearer ${token()}`, `BEARER   ${token()}`, `Bearer ${token()} extra`, `Bearer ${token()},Bearer ${token()}`, `Bearer\t${token()}`, `Bearer ${token()}.`, `Bearer .${token()}`])],
        [1, () => `Bearer ${'a'.repeat(d.int(1_000, 8_000))}`],
      ),
    ],
  );
}

// ---------------------------------------------------------------------------------------------
// A raw graphql-ws socket

export type Frame = { kind: 'text'; data: string } | { kind: 'binary'; data: Uint8Array } | { kind: 'invalid-utf8'; data: Uint8Array };

export interface Closed {
  code: number;
  reason: string;
}

/**
 * A `ws` WebSocket that sends whatever it is given, as text or binary frames, and records
 * every message and the close. Unlike the graphql-ws client it lets a test send garbage.
 */
export class RawSocket {
  readonly received: string[] = [];
  readonly errors: Error[] = [];
  closed: Closed | null = null;
  private readonly socket: WebSocket;
  private readonly waiters = new Set<() => void>();
  readonly open: Promise<boolean>;
  private readonly whenClosed: Promise<Closed>;

  constructor(url: string, protocol: string | null) {
    this.socket = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
    this.socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.received.push(isBinary ? `<binary ${data.length} bytes>` : data.toString('utf8'));
      this.wake();
    });
    this.socket.on('error', (error) => this.errors.push(error));
    this.whenClosed = new Promise((resolve) =>
      this.socket.on('close', (code: number, reason: Buffer) => {
        this.closed = { code, reason: reason.toString('utf8') };
        this.wake();
        resolve(this.closed);
      }),
    );
    this.open = new Promise((resolve) => {
      this.socket.once('open', () => resolve(true));
      void this.whenClosed.then(() => resolve(false));
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends one frame; resolves once written (or at once when the socket is no longer open). */
  send(frame: Frame): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.socket.send(frame.data, { binary: frame.kind === 'binary' }, () => resolve()));
  }

  /** Resolves true once `check` holds, false if the socket closed first or `timeoutMs` passed. */
  async until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (this.closed || Date.now() > deadline) return check();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Closes from this side (unless the server did already) and waits for the close to complete. */
  async close(timeoutMs = 3_000): Promise<Closed | null> {
    if (this.socket.readyState === WebSocket.CONNECTING || this.socket.readyState === WebSocket.OPEN) this.socket.close(1000, 'done');
    const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref());
    const result = await Promise.race([this.whenClosed, timer]);
    if (!result) this.socket.terminate();
    return result;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
    this.waiters.clear();
  }
}
