import { badUserInput } from '../errors';

export const MAX_SUBJECT_LENGTH = 200;
/** Names of people and teams (their columns hold 200). */
export const MAX_NAME_LENGTH = 200;
export const MAX_BODY_LENGTH = 10_000;

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
