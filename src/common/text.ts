import { badUserInput } from '../errors';

export const MAX_SUBJECT_LENGTH = 200;
/** Names of people and teams (their columns hold 200). */
const MAX_NAME_LENGTH = 200;
export const MAX_BODY_LENGTH = 10_000;

/** A UTF-16 surrogate not paired with its other half: a string holding one is not Unicode text. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why no field can hold `text`, or null when it can. The pipeline refuses an
 * operation with such text anywhere in it (graphql/limits.ts textError).
 */
export function textFault(text: string): string | null {
  // PostgreSQL refuses to store or even compare text holding NUL.
  if (text.includes('\0')) return 'Text must not contain NUL characters (U+0000)';
  // It would be stored as U+FFFD, unlike what was acknowledged and sent live.
  if (LONE_SURROGATE.test(text)) return 'Text must be well-formed Unicode (it holds a lone UTF-16 surrogate)';
  return null;
}

/** Trimmed text, or BAD_USER_INPUT when it is blank or longer than `max` characters. */
export function requireText(field: string, value: string, max: number): string {
  const text = value.trim();
  if (!text) throw badUserInput(`${field} must not be blank`);
  if (text.length > max) throw badUserInput(`${field} must be at most ${max} characters`);
  return text;
}

/** Bidirectional embeddings, overrides and isolates: they reorder the text after them, so that a name could read as another. */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;
/**
 * A character that shows: not a space, a control or format character (zero-width
 * space and joiners, BOM), a default-ignorable one (Hangul filler), a mark on its
 * own, or the blank Braille pattern.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{M}\u2800]/u;

/**
 * The name of a person or team as stored: in NFC, trimmed; BAD_USER_INPUT when
 * it is blank, longer than MAX_NAME_LENGTH, shows nothing, or holds
 * bidirectional controls (in a drop-down, either could pass for someone else).
 */
export function requireName(field: string, value: string): string {
  const name = requireText(field, value.normalize('NFC'), MAX_NAME_LENGTH);
  if (!VISIBLE.test(name)) throw badUserInput(`${field} must hold a visible character`);
  if (BIDI_CONTROL.test(name)) throw badUserInput(`${field} must not hold bidirectional override or isolate characters (U+202A to U+202E, U+2066 to U+2069)`);
  return name;
}

/** Trimmed text, or null when it is absent or blank; BAD_USER_INPUT when longer than `max` characters. */
export function optionalText(field: string, value: string | null | undefined, max: number): string | null {
  const text = value?.trim();
  if (!text) return null;
  if (text.length > max) throw badUserInput(`${field} must be at most ${max} characters`);
  return text;
}

/**
 * The form of a name that search compares: lower case, compatibility-decomposed, without
 * combining marks, so "ZOE", "zoé" and "Zoë" are the same. Stored beside each user's and
 * team's name (`searchName`) when the row is inserted, so the database can search it.
 */
export function searchKey(text: string): string {
  return text.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '');
}

/** The character that escapes `%`, `_` and itself in the LIKE patterns of likeContaining (`ESCAPE '!'`). */
export const LIKE_ESCAPE = '!';

/** A LIKE pattern (with `ESCAPE '!'`) matching text that holds `searchKey(needle)` anywhere; `%` and `_` are plain characters. */
export function likeContaining(needle: string): string {
  return `%${searchKey(needle).replace(/[!%_]/g, (c) => LIKE_ESCAPE + c)}%`;
}
