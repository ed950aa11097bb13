import { badUserInput } from '../../errors';

/** Files one message may carry (Accurx allows patients 5). */
export const MAX_ATTACHMENTS_PER_MESSAGE = 5;
/** An upload not sent with a message within this long is removed. */
export const UNATTACHED_TTL_MS = 24 * 60 * 60 * 1000;
/** The window of ATTACHMENT_DAILY_BYTES: a rolling 24 hours. */
export const DAILY_WINDOW_MS = 24 * 60 * 60 * 1000;
/**
 * Stored contents no attachment names are kept this long after an upload last
 * claimed them: an upload claims them before it stores the bytes and names
 * them only once it commits, so removal must not come in between.
 */
export const CONTENTS_GRACE_MS = 60 * 60 * 1000;
const MAX_NAME_LENGTH = 255;

/**
 * The name shown for a file: the last part of what the client sent (a browser
 * may send a path), without control or bidirectional characters (a name that
 * would read as another: "gpj.exe" reversed), at most 255 characters,
 * "attachment" when nothing is left. It never decides the file's type.
 */
export function cleanFileName(raw: string | undefined): string {
  const last = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const clean = last
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim();
  return [...clean].slice(0, MAX_NAME_LENGTH).join('').trim() || 'attachment';
}

/** The description of the attachmentIds argument of sendMessage and createThread. */
export const ATTACHMENT_IDS =
  'Files uploaded by the caller (POST /attachments) and not yet sent, at most 5, in order: sent with the message, or the whole send is refused (BAD_USER_INPUT). With them the body may be blank.';

/** A size for people: "10 MB", "512 KB". */
export function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return mib >= 1 ? `${Number(mib.toFixed(1))} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

/** The attachment ids a send names, checked before anything is read: at most five, each once. */
export function checkAttachmentIds(ids: readonly string[]): string[] {
  if (ids.length > MAX_ATTACHMENTS_PER_MESSAGE) throw badUserInput(`A message carries at most ${MAX_ATTACHMENTS_PER_MESSAGE} attachments`);
  if (new Set(ids).size !== ids.length) throw badUserInput('attachmentIds names the same attachment twice');
  return [...ids];
}
