import { PDFArray, PDFDict, PDFDocument, PDFName, PDFStream, type PDFContext, type PDFObject } from 'pdf-lib';

export type PdfFault = 'unreadable' | 'unsafe';

/**
 * Names no acceptable PDF holds, as a key or a value: scripts, actions run on
 * events (/AA), launching programs, attached files, XML forms, actions that
 * send data or open other files, and encryption.
 */
const UNSAFE_NAMES = new Set([
  'JS', 'JavaScript', 'AA', 'Launch', 'EmbeddedFile', 'EmbeddedFiles', 'EF', 'RichMedia', 'XFA',
  'SubmitForm', 'ImportData', 'GoToE', 'GoToR', 'Encrypt',
]);
/** Action types (an action's /S) refused; Sound, Movie and Rendition also name harmless annotation types, so only here. */
const UNSAFE_ACTIONS = new Set([...UNSAFE_NAMES, 'Rendition', 'Sound', 'Movie']);

/**
 * Whether the PDF `bytes` may be stored as they are: 'unsafe' if it is
 * encrypted or holds active content (see UNSAFE_NAMES; an /OpenAction may only
 * go to a page), 'unreadable' if pdf-lib cannot parse it or it has no page.
 * Both the parsed objects (including those in object streams) and the raw
 * bytes outside streams are searched.
 */
export async function checkPdf(bytes: Uint8Array): Promise<PdfFault | null> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  for (const name of rawNames(text)) if (UNSAFE_NAMES.has(name)) return 'unsafe';
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, { ignoreEncryption: true, throwOnInvalidObject: true, updateMetadata: false });
    if (doc.getPageCount() === 0) return 'unreadable';
  } catch {
    return 'unreadable';
  }
  return doc.isEncrypted || holdsActiveContent(doc.context) ? 'unsafe' : null;
}

/** Every indirect object and everything nested in it, without following references (each target is an indirect object too). */
function holdsActiveContent(context: PDFContext): boolean {
  const pending: PDFObject[] = context.enumerateIndirectObjects().map(([, object]) => object);
  for (let object = pending.pop(); object !== undefined; object = pending.pop()) {
    if (object instanceof PDFStream) pending.push(object.dict);
    else if (object instanceof PDFArray) for (const item of object.asArray()) pending.push(item);
    else if (object instanceof PDFName && UNSAFE_NAMES.has(nameOf(object))) return true;
    else if (object instanceof PDFDict) {
      for (const [key, value] of object.entries()) {
        const name = nameOf(key);
        if (UNSAFE_NAMES.has(name)) return true;
        if (name === 'S' && UNSAFE_ACTIONS.has(nameOf(context.lookup(value)))) return true;
        if (name === 'OpenAction' && !goesToPage(context, value)) return true;
        pending.push(value);
      }
    }
  }
  return false;
}

/** A destination array, or a GoTo action (what follows it, /Next, is checked as any other object). */
function goesToPage(context: PDFContext, openAction: PDFObject): boolean {
  const opening = context.lookup(openAction);
  if (opening instanceof PDFArray) return true;
  if (!(opening instanceof PDFDict)) return false;
  const type = opening.entries().find(([key]) => nameOf(key) === 'S')?.[1];
  return type !== undefined && nameOf(context.lookup(type)) === 'GoTo';
}

/** pdf-lib decodes only #XX escapes with uppercase hex digits; lowercase ones (/#4aS is /JS) are decoded here. */
function nameOf(object: PDFObject | undefined): string {
  return object instanceof PDFName ? decodeEscapes(object.decodeText()) : '';
}

const decodeEscapes = (name: string) => name.replace(/#([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

const DELIMITERS = new Set([...'()<>[]{}/%', ' ', '\t', '\r', '\n', '\f', '\0']);

/**
 * The names in a PDF's bytes outside strings, comments and stream data
 * (compressed streams are noise, and strings hold URLs and titles with
 * slashes), decoded: a second look, for objects the parser might pass over.
 */
function* rawNames(text: string): Generator<string> {
  let at = 0;
  while (at < text.length) {
    const char = text[at];
    if (char === '(') at = afterString(text, at);
    else if (char === '%') at = afterLine(text, at);
    else if (char === '/') {
      let end = at + 1;
      while (end < text.length && !DELIMITERS.has(text[end])) end++;
      yield decodeEscapes(text.slice(at + 1, end));
      at = end;
    } else if (startsStream(text, at)) {
      const end = text.indexOf('endstream', at);
      at = end < 0 ? text.length : end + 'endstream'.length;
    } else at++;
  }
}

function startsStream(text: string, at: number): boolean {
  const next = text[at + 'stream'.length];
  return text.startsWith('stream', at) && (at === 0 || DELIMITERS.has(text[at - 1])) && (next === '\r' || next === '\n');
}

/** Past the literal string opening at `at`: parentheses nest, a backslash escapes the next character. */
function afterString(text: string, at: number): number {
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i + 1;
  }
  return text.length;
}

function afterLine(text: string, at: number): number {
  let end = at;
  while (end < text.length && text[end] !== '\r' && text[end] !== '\n') end++;
  return end;
}
