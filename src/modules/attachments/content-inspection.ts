import { open, readFile, writeFile } from 'node:fs/promises';
import { filetypeinfo } from 'magic-bytes.js';
import { cleanImage, MAX_PIXELS, type ImageFormat } from './image-cleaning';
import { checkPdf } from './pdf-check';

export const ALLOWED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'] as const;
export type AllowedType = (typeof ALLOWED_TYPES)[number];

export interface Inspected {
  contentType: AllowedType;
  /** Pixel size for images (after orientation is applied), null for PDFs. */
  width: number | null;
  height: number | null;
  /** For images: a WebP of at most 160 px on its longer side, base64 (no data: prefix); null for PDFs. */
  thumbnail: string | null;
}

export type RefusalCode = 'ATTACHMENT_TYPE_NOT_ALLOWED' | 'ATTACHMENT_TYPE_MISMATCH' | 'ATTACHMENT_UNREADABLE' | 'ATTACHMENT_UNSAFE';

/** A file that will not be stored; the message is for the person who sent it. */
export class AttachmentRefused extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'AttachmentRefused';
  }
}

/** The allowed types show in their first 12 bytes; magic-bytes.js looks no further for them. */
const HEAD_BYTES = 4096;

const KINDS: Record<AllowedType, { label: string; extension: string; extensions: string[] }> = {
  'image/jpeg': { label: 'JPEG image', extension: '.jpg', extensions: ['jpg', 'jpeg', 'jfif'] },
  'image/png': { label: 'PNG image', extension: '.png', extensions: ['png'] },
  'image/webp': { label: 'WebP image', extension: '.webp', extensions: ['webp'] },
  'application/pdf': { label: 'PDF document', extension: '.pdf', extensions: ['pdf'] },
};
const IMAGE_FORMATS: Record<Exclude<AllowedType, 'application/pdf'>, ImageFormat> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
};
/** What clients send when they do not know the type. */
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream']);
/** Older names some clients still send. */
const TYPE_ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'application/x-pdf': 'application/pdf',
};

/**
 * Checks the uploaded file at `source` and writes the bytes to store at `target`:
 * an image re-encoded in its own format (upright, metadata stripped: see cleanImage),
 * a PDF copied unchanged once found free of active content.
 * `declared` is what the client said: its part's Content-Type and the file name; either may be absent.
 * The type is the content's (its first bytes), never the declared one. Throws AttachmentRefused
 * for anything it will not store, and then leaves nothing at `target`; a file that cannot be read
 * or written (a missing `source`, a full disk) rejects with the system's error.
 */
export async function inspect(source: string, target: string, declared: { contentType?: string; fileName?: string }): Promise<Inspected> {
  const type = detectType(await readHead(source));
  if (type === undefined) {
    throw new AttachmentRefused('ATTACHMENT_TYPE_NOT_ALLOWED', 'This type of file cannot be attached. Attach a photo (JPEG, PNG or WebP) or a PDF document.');
  }
  const { label, extension } = KINDS[type];
  if (nameContradicts(type, declared.fileName)) {
    throw new AttachmentRefused(
      'ATTACHMENT_TYPE_MISMATCH',
      `This file is a ${label}, but its name ends in another extension. Rename it to end in ${extension} and attach it again.`,
    );
  }
  if (declaredTypeContradicts(type, declared.contentType)) {
    throw new AttachmentRefused(
      'ATTACHMENT_TYPE_MISMATCH',
      `This file is a ${label}, but it was sent labelled as another type of file. Attach it again as a ${label}.`,
    );
  }
  return type === 'application/pdf' ? storePdf(source, target) : storeImage(source, target, type);
}

async function readHead(source: string): Promise<Uint8Array> {
  const file = await open(source, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function detectType(head: Uint8Array): AllowedType | undefined {
  return filetypeinfo(head)
    .map((guess) => guess.mime)
    .find((mime): mime is AllowedType => (ALLOWED_TYPES as readonly (string | undefined)[]).includes(mime));
}

function declaredTypeContradicts(type: AllowedType, contentType: string | undefined): boolean {
  const declared = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return !GENERIC_TYPES.has(declared) && (TYPE_ALIASES[declared] ?? declared) !== type;
}

/**
 * Any extension but the type's own contradicts it. An extension is what follows the last dot
 * when that is letters and digits with at least one letter: "scan.2026", "Dr. Smith" and
 * "C:\my.photos\scan" have none. Trailing dots and spaces are ignored, as Windows drops them
 * when saving ("x.exe." is an .exe).
 */
function nameContradicts(type: AllowedType, fileName: string | undefined): boolean {
  const extension = /\.([a-z0-9]*[a-z][a-z0-9]*)[. ]*$/i.exec(fileName ?? '')?.[1].toLowerCase();
  return extension !== undefined && !KINDS[type].extensions.includes(extension);
}

async function storePdf(source: string, target: string): Promise<Inspected> {
  const bytes = await readFile(source);
  const fault = await checkPdf(bytes);
  if (fault === 'unsafe') {
    throw new AttachmentRefused(
      'ATTACHMENT_UNSAFE',
      'PDFs with scripts, actions, attachments or encryption (a password) are not accepted. Print the document to a new PDF and attach that instead.',
    );
  }
  if (fault === 'unreadable') {
    throw new AttachmentRefused(
      'ATTACHMENT_UNREADABLE',
      'This PDF could not be read: it may be damaged or incomplete. Save or print it again as a PDF and attach the new file.',
    );
  }
  // The bytes that were checked, not a second read of `source`.
  await writeFile(target, bytes);
  return { contentType: 'application/pdf', width: null, height: null, thumbnail: null };
}

async function storeImage(source: string, target: string, type: keyof typeof IMAGE_FORMATS): Promise<Inspected> {
  const cleaned = await cleanImage(source, target, IMAGE_FORMATS[type]);
  if (cleaned === 'too-large') {
    throw new AttachmentRefused(
      'ATTACHMENT_UNREADABLE',
      `This image is too large: images of at most ${MAX_PIXELS / 1_000_000} megapixels are accepted. Attach a smaller photo.`,
    );
  }
  if (cleaned === 'unreadable') {
    throw new AttachmentRefused(
      'ATTACHMENT_UNREADABLE',
      'This image could not be read: it may be damaged or incomplete. Save it again as a JPEG, PNG or WebP photo and attach the new file.',
    );
  }
  return { contentType: type, ...cleaned };
}
