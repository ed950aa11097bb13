import { badUserInput } from '../errors';

export const MAX_SUBJECT_LENGTH = 200;
/** Names of people and teams (their columns hold 200). */
export const MAX_NAME_LENGTH = 200;
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

/** Trimmed text, or null when it is absent or blank; BAD_USER_INPUT when longer than `max` characters. */
export function optionalText(field: string, value: string | null | undefined, max: number): string | null {
  const text = value?.trim();
  if (!text) return null;
  if (text.length > max) throw badUserInput(`${field} must be at most ${max} characters`);
  return text;
}
