import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { PDFDocument, PDFName, PDFString, StandardFonts, type PDFContext } from 'pdf-lib';
import sharp from 'sharp';
import { AttachmentRefused, inspect, type RefusalCode } from '../../src/modules/attachments/content-inspection';

// What an uploaded file must be to be stored, and what is stored of it.
// Fixtures are made here with sharp and pdf-lib; each test writes its own files.

let dir: string;
let files = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'content-inspection-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const pathFor = (name = 'file') => join(dir, `${++files}-${name}`);

async function fileOf(contents: Uint8Array | string): Promise<string> {
  const path = pathFor();
  await writeFile(path, contents);
  return path;
}

async function imageFile(image: sharp.Sharp): Promise<string> {
  const path = pathFor();
  await image.toFile(path);
  return path;
}

const solid = (width: number, height: number, background = '#b03030') =>
  sharp({ create: { width, height, channels: 3, background } });
/** Noise compresses badly, so half of the file is half of the picture. */
const noisy = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });

/** Inspects `source` into a fresh target; the result and the target's path. */
async function accepted(source: string, declared: { contentType?: string; fileName?: string } = {}) {
  const target = pathFor('stored');
  return { ...(await inspect(source, target, declared)), target };
}

/** The refusal's code, having checked that it is an AttachmentRefused and that nothing was stored. */
async function refusal(source: string, declared: { contentType?: string; fileName?: string } = {}): Promise<RefusalCode> {
  const target = pathFor('stored');
  const error: unknown = await inspect(source, target, declared).then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AttachmentRefused);
  expect(existsSync(target)).toBe(false);
  return (error as AttachmentRefused).code;
}

async function messageOf(source: string): Promise<string> {
  return inspect(source, pathFor('stored'), {}).then(
    () => '',
    (error: Error) => error.message,
  );
}

/** The PNG `png` with a chunk added after its header (IHDR), its CRC correct. */
function withChunk(png: Buffer, type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const chunk = Buffer.alloc(body.length + 8);
  chunk.writeUInt32BE(data.length, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), body.length + 4);
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}

/** The thumbnail's metadata (through a file: only sharp's file loaders are allowed). */
async function thumbnailOf(base64: string | null) {
  expect(base64).toEqual(expect.any(String));
  return sharp(await fileOf(Buffer.from(base64!, 'base64'))).metadata();
}

describe('images are stored re-encoded, upright, without metadata', () => {
  test('a JPEG with EXIF (camera make, GPS) and orientation 6: no EXIF stored, turned upright, a small WebP thumbnail', async () => {
    // Red on top as stored; orientation 6 shows the stored top on the right.
    const photo = solid(640, 320, '#2040c0')
      .composite([{ input: { create: { width: 640, height: 160, channels: 3, background: '#e01010' } }, top: 0, left: 0 }])
      .jpeg()
      .withExif({ IFD0: { Make: 'AcmeCamCorp', Model: 'Z9' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } })
      .withMetadata({ orientation: 6 });
    const source = await imageFile(photo);
    const before = await sharp(source).metadata();
    expect(before.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true); // the GPS IFD pointer tag, little-endian
    expect(before.orientation).toBe(6);

    const stored = await accepted(source, { contentType: 'image/jpeg', fileName: 'wound.JPG' });
    expect(stored).toMatchObject({ contentType: 'image/jpeg', width: 320, height: 640 });
    const after = await sharp(stored.target).metadata();
    expect(after).toMatchObject({ format: 'jpeg', width: 320, height: 640 });
    expect(after.exif).toBeUndefined();
    expect(after.orientation).toBeUndefined();
    expect((await readFile(stored.target)).includes('AcmeCamCorp')).toBe(false);

    const { data, info } = await sharp(stored.target).raw().toBuffer({ resolveWithObject: true });
    const red = (x: number, y: number) => data[(y * info.width + x) * info.channels];
    expect(red(info.width - 5, 320)).toBeGreaterThan(200);
    expect(red(5, 320)).toBeLessThan(100);

    const thumbnail = await thumbnailOf(stored.thumbnail);
    expect(thumbnail).toMatchObject({ format: 'webp', width: 80, height: 160 });
  });

  test('a PNG with a tEXt chunk and XMP: both stripped, the pixels kept', async () => {
    const png = await solid(30, 20).png().withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/">Jane Patient XMP</x:xmpmeta>').toBuffer();
    const source = await fileOf(withChunk(png, 'tEXt', Buffer.from('Author\0Jane Patient tEXt', 'latin1')));
    const before = await sharp(source).metadata();
    expect(before.xmp).toBeDefined();
    expect(before.comments).toEqual([{ keyword: 'Author', text: 'Jane Patient tEXt' }]);

    const stored = await accepted(source, { fileName: 'rash.png' });
    expect(stored).toMatchObject({ contentType: 'image/png', width: 30, height: 20 });
    const after = await sharp(stored.target).metadata();
    expect(after).toMatchObject({ format: 'png' });
    expect(after.xmp).toBeUndefined();
    expect(after.comments).toBeUndefined();
    expect((await readFile(stored.target)).includes('Jane Patient')).toBe(false);
    expect(await thumbnailOf(stored.thumbnail)).toMatchObject({ format: 'webp', width: 30, height: 20 });
  });

  test('a WebP is stored as a WebP; a thumbnail is never larger than 160 px', async () => {
    const stored = await accepted(await imageFile(solid(400, 300).webp()), { contentType: 'image/webp', fileName: 'ulcer.webp' });
    expect(stored).toMatchObject({ contentType: 'image/webp', width: 400, height: 300 });
    expect(await sharp(stored.target).metadata()).toMatchObject({ format: 'webp' });
    expect(await thumbnailOf(stored.thumbnail)).toMatchObject({ width: 160, height: 120 });
  });

  test('an ICC profile is applied and dropped: the stored image is sRGB with no profile', async () => {
    const source = await imageFile(solid(20, 20).jpeg().withIccProfile('p3'));
    expect((await sharp(source).metadata()).hasProfile).toBe(true);
    const stored = await accepted(source);
    expect(await sharp(stored.target).metadata()).toMatchObject({ hasProfile: false, space: 'srgb' });
  });

  test('an animated WebP is stored as its first frame', async () => {
    const frame = 20 * 30 * 3;
    const pixels = Buffer.alloc(frame * 3);
    pixels.fill(200, 0, frame);
    pixels.fill(120, frame, 2 * frame);
    pixels.fill(40, 2 * frame);
    const source = await imageFile(sharp(pixels, { raw: { width: 20, height: 90, channels: 3, pageHeight: 30 } }).webp({ loop: 0, delay: [100, 100, 100] }));
    expect((await sharp(source).metadata()).pages).toBeGreaterThan(1);

    const stored = await accepted(source);
    expect(stored).toMatchObject({ width: 20, height: 30 });
    const after = await sharp(stored.target).metadata();
    expect(after.pages ?? 1).toBe(1);
    expect(after.height).toBe(30);
  });

  test('a JPEG cut in half is unreadable', async () => {
    const jpeg = await noisy(300, 200).jpeg().toBuffer();
    expect(await refusal(await fileOf(jpeg.subarray(0, jpeg.length / 2)))).toBe('ATTACHMENT_UNREADABLE');
  });

  test('a PNG cut in half is unreadable (libvips names the target in that error too)', async () => {
    const png = await noisy(200, 200).png().toBuffer();
    expect(await refusal(await fileOf(png.subarray(0, png.length / 2)))).toBe('ATTACHMENT_UNREADABLE');
  });

  test('a target that cannot be written is the system\'s error, not a refusal', async () => {
    const error = await inspect(await imageFile(solid(10, 10).png()), join(dir, 'missing', 'stored'), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(AttachmentRefused);
  });

  test('a PNG whose header claims more than 50 megapixels is refused as too large before it is decoded; 50 exactly is not', async () => {
    const claiming = async (width: number, height: number) => {
      const png = Buffer.from(await solid(1, 1).png().toBuffer());
      png.writeUInt32BE(width, 16);
      png.writeUInt32BE(height, 20);
      png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
      return fileOf(png);
    };
    const bomb = await claiming(100_000, 100_000);
    expect(await refusal(bomb)).toBe('ATTACHMENT_UNREADABLE');
    expect(await messageOf(bomb)).toMatch(/too large.*50 megapixels/);
    expect(await messageOf(await claiming(10_000, 5_001))).toMatch(/too large/);
    // Within the limit, its pixels are then found missing: unreadable, not too large.
    expect(await messageOf(await claiming(10_000, 5_000))).not.toMatch(/too large/);
  });

  test('sharp itself refuses TIFF, GIF, SVG and HEIF files, and images in a buffer: only its JPEG, PNG and WebP file loaders are allowed', async () => {
    const others = await Promise.all([
      imageFile(solid(8, 8).tiff()),
      imageFile(solid(8, 8).gif()),
      imageFile(solid(8, 8).heif({ compression: 'av1' })),
      fileOf('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'),
    ]);
    for (const path of others) await expect(sharp(path).toBuffer()).rejects.toThrow(/unsupported image format/);
    await expect(sharp(await readFile(await imageFile(solid(8, 8).png()))).toBuffer()).rejects.toThrow(/unsupported image format/);
  });
});

describe('only photos (JPEG, PNG, WebP) and PDFs, by their content', () => {
  test.each([
    ['a GIF', () => imageFile(solid(8, 8).gif())],
    ['a TIFF', () => imageFile(solid(8, 8).tiff())],
    ['an SVG', () => fileOf('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
    ['an HTML page', () => fileOf('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>')],
    ['a .docx (a ZIP)', () => fileOf(Buffer.from('504b0304140006000800000021000000', 'hex'))],
    ['a Windows executable', () => fileOf(Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]))],
    ['an empty file', () => fileOf('')],
    ['random bytes', () => fileOf(Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 251)))],
    ['a PDF whose header is not at the start', () => fileOf(Buffer.concat([Buffer.alloc(16), Buffer.from('%PDF-1.7\n')]))],
  ])('%s is not allowed, whatever it is called', async (_, make) => {
    expect(await refusal(await make(), { contentType: 'image/jpeg', fileName: 'photo.jpg' })).toBe('ATTACHMENT_TYPE_NOT_ALLOWED');
  });

  test('the refusal names what may be attached, and nothing of the file', async () => {
    expect(await messageOf(await fileOf('<html></html>'))).toBe('This type of file cannot be attached. Attach a photo (JPEG, PNG or WebP) or a PDF document.');
  });
});

describe('a file may not lie about itself', () => {
  let png: string;
  let pdf: string;
  beforeAll(async () => {
    png = await imageFile(solid(10, 10).png());
    pdf = await fileOf(await letter());
  });

  test.each([
    ['named x.pdf', { fileName: 'x.pdf' }],
    ['named x.jpg', { fileName: 'x.jpg' }],
    ['named x.html', { fileName: 'x.html' }],
    ['named x.svg', { fileName: 'x.svg' }],
    ['named x.gif', { fileName: 'x.gif' }],
    ['named x.exe (with a trailing dot Windows drops)', { fileName: 'x.exe.' }],
    ['named with a path, C:\\photos\\x.exe', { fileName: 'C:\\photos\\x.exe' }],
    ['declared image/jpeg', { contentType: 'image/jpeg' }],
    ['declared text/html', { contentType: 'text/html; charset=utf-8' }],
    ['declared image/png but named x.webp', { contentType: 'image/png', fileName: 'x.webp' }],
  ])('a PNG %s is a mismatch', async (_, declared) => {
    expect(await refusal(png, declared)).toBe('ATTACHMENT_TYPE_MISMATCH');
  });

  test('a PDF named wound.jpg is a mismatch, and the message says what it is', async () => {
    expect(await refusal(pdf, { fileName: 'wound.jpg', contentType: 'application/pdf' })).toBe('ATTACHMENT_TYPE_MISMATCH');
    const error = await inspect(pdf, pathFor(), { fileName: 'wound.jpg' }).catch((e: Error) => e);
    expect((error as Error).message).toBe('This file is a PDF document, but its name ends in another extension. Rename it to end in .pdf and attach it again.');
  });

  test.each([
    ['no name and no type', {}],
    ['application/octet-stream', { contentType: 'application/octet-stream', fileName: 'scan' }],
    ['binary/octet-stream', { contentType: 'binary/octet-stream' }],
    ['an empty type', { contentType: '' }],
    ['IMAGE/PNG in capitals, named SCAN.PNG', { contentType: 'IMAGE/PNG', fileName: 'SCAN.PNG' }],
    ['a name whose last dot starts no extension (rash 12.03.2026)', { fileName: 'rash 12.03.2026' }],
    ['a name whose last dot starts no extension (C:\\my.photos\\rash)', { fileName: 'C:\\my.photos\\rash' }],
    ['a name whose last dot starts no extension (Photo from Dr. Smith)', { fileName: 'Photo from Dr. Smith' }],
  ])('a PNG with %s is fine', async (_, declared) => {
    expect(await accepted(png, declared)).toMatchObject({ contentType: 'image/png' });
  });

  test('older type names (image/jpg, image/pjpeg, image/x-png, application/x-pdf) and .jpeg and .jfif names are their types', async () => {
    const jpeg = await imageFile(solid(10, 10).jpeg());
    for (const declared of [{ contentType: 'image/jpg', fileName: 'a.jpeg' }, { contentType: 'image/pjpeg', fileName: 'a.jfif' }]) {
      expect(await accepted(jpeg, declared)).toMatchObject({ contentType: 'image/jpeg' });
    }
    expect(await accepted(png, { contentType: 'image/x-png' })).toMatchObject({ contentType: 'image/png' });
    expect(await accepted(pdf, { contentType: 'application/x-pdf' })).toMatchObject({ contentType: 'application/pdf' });
  });
});

/** A one-page letter with text, as pdf-lib writes it; `edit` may change the document first. */
async function letter(edit?: (doc: PDFDocument) => void, options: { useObjectStreams?: boolean } = { useObjectStreams: false }): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([400, 300]);
  page.drawText('Dear colleague, please review the wound on 3 March.', { x: 20, y: 250, size: 10, font: await doc.embedFont(StandardFonts.Helvetica) });
  edit?.(doc);
  return doc.save(options);
}

/** The PDF `bytes` (uncompressed objects) with `from` replaced by `to` in its text. */
const rewritten = (bytes: Uint8Array, from: string | RegExp, to: string) => {
  const text = Buffer.from(bytes).toString('latin1');
  const changed = text.replace(from, to);
  expect(changed).not.toBe(text);
  return Buffer.from(changed, 'latin1');
};

type PdfDictionary = NonNullable<Parameters<PDFContext['stream']>[1]>;

/** Puts a link on the first page, `entries` added to (or replacing those of) its annotation dictionary. */
const withLink = (entries: PdfDictionary) => (doc: PDFDocument) => {
  const link = doc.context.obj({ Type: 'Annot', Subtype: 'Link', Rect: [0, 0, 10, 10], ...entries });
  doc.getPage(0).node.set(PDFName.of('Annots'), doc.context.obj([doc.context.register(link)]));
};

const javaScriptAction = (doc: PDFDocument) => doc.context.obj({ Type: 'Action', S: 'JavaScript', JS: PDFString.of('app.alert(1)') });

describe('PDFs are stored unchanged, once free of active content', () => {
  test('a plain letter is accepted and stored byte for byte', async () => {
    const bytes = await letter();
    const stored = await accepted(await fileOf(bytes), { contentType: 'application/pdf', fileName: 'Letter to GP.pdf' });
    expect(stored).toMatchObject({ contentType: 'application/pdf', width: null, height: null, thumbnail: null });
    expect((await readFile(stored.target)).equals(Buffer.from(bytes))).toBe(true);
  });

  test('an /OpenAction that only opens a page (a destination, or a GoTo action) is accepted', async () => {
    const toPage = await letter((doc) => doc.catalog.set(PDFName.of('OpenAction'), doc.context.obj([doc.getPage(0).ref, 'Fit'])));
    expect(await accepted(await fileOf(toPage))).toMatchObject({ contentType: 'application/pdf' });
    const goTo = await letter((doc) => doc.catalog.set(PDFName.of('OpenAction'), doc.context.obj({ S: 'GoTo', D: [doc.getPage(0).ref, 'Fit'] })));
    expect(await accepted(await fileOf(goTo))).toMatchObject({ contentType: 'application/pdf' });
  });

  test('names in strings are not actions: a link to .../JS/AA/... described as "About /JavaScript" is accepted', async () => {
    const bytes = await letter(
      withLink({ Contents: PDFString.of('About /JavaScript and /Launch'), A: { S: 'URI', URI: PDFString.of('https://example.org/JS/AA/app.js') } }),
    );
    expect(await accepted(await fileOf(bytes))).toMatchObject({ contentType: 'application/pdf' });
  });

  test('names in stream data are not actions: an uncompressed XMP packet mentioning /JS and /EF is accepted', async () => {
    const bytes = await letter((doc) => {
      const xmp = doc.context.stream('<x:xmpmeta xmlns:x="adobe:ns:meta/">see /JS and /EF in the notes</x:xmpmeta>', { Type: 'Metadata', Subtype: 'XML' });
      doc.catalog.set(PDFName.of('Metadata'), doc.context.register(xmp));
    });
    expect(Buffer.from(bytes).includes('/JS and /EF')).toBe(true);
    expect(await accepted(await fileOf(bytes))).toMatchObject({ contentType: 'application/pdf' });
  });

  const unsafe: [string, (doc: PDFDocument) => void][] = [
    ['a JavaScript /OpenAction', (doc) => doc.catalog.set(PDFName.of('OpenAction'), javaScriptAction(doc))],
    ['an /OpenAction opening a web page', (doc) => doc.catalog.set(PDFName.of('OpenAction'), doc.context.obj({ S: 'URI', URI: PDFString.of('https://example.org') }))],
    ['a page with additional actions (/AA), even harmless ones', (doc) => doc.getPage(0).node.set(PDFName.of('AA'), doc.context.obj({ O: { S: 'Named', N: 'NextPage' } }))],
    ['a link that launches a program', withLink({ A: { S: 'Launch', F: PDFString.of('calc.exe') } })],
    ...['ImportData', 'GoToE', 'GoToR', 'Rendition', 'Sound', 'Movie'].map((type): [string, (doc: PDFDocument) => void] => [`a link running a ${type} action`, withLink({ A: { S: type } })]),
    [
      'an attached file (/Names /EmbeddedFiles)',
      (doc) => {
        const file = doc.context.register(doc.context.flateStream('MZ...', { Type: 'EmbeddedFile' }));
        const spec = doc.context.obj({ Type: 'Filespec', F: PDFString.of('run.exe'), EF: { F: file } });
        doc.catalog.set(PDFName.of('Names'), doc.context.obj({ EmbeddedFiles: { Names: [PDFString.of('run.exe'), doc.context.register(spec)] } }));
      },
    ],
    ['a rich media annotation', withLink({ Subtype: 'RichMedia' })],
    ['an XFA form', (doc) => doc.catalog.set(PDFName.of('AcroForm'), doc.context.obj({ Fields: [], XFA: PDFString.of('<xdp/>') }))],
    [
      'a GoTo /OpenAction followed by a form submission',
      (doc) => doc.catalog.set(PDFName.of('OpenAction'), doc.context.obj({ S: 'GoTo', D: [doc.getPage(0).ref, 'Fit'], Next: { S: 'SubmitForm', F: PDFString.of('https://example.org') } })),
    ],
  ];
  describe.each([
    ['written plainly', { useObjectStreams: false }],
    ['in compressed object streams (only the parsed objects show it)', { useObjectStreams: true }],
  ])('%s', (_, options) => {
    test.each(unsafe)('%s is unsafe', async (__, edit) => {
      expect(await refusal(await fileOf(await letter(edit, options)))).toBe('ATTACHMENT_UNSAFE');
    });
  });

  test('hex-escaped names are read as what they spell: /J#61vaScript is /JavaScript', async () => {
    const bytes = await letter((doc) => doc.catalog.set(PDFName.of('OpenAction'), javaScriptAction(doc)));
    const escaped = rewritten(bytes, /\/S \/JavaScript\n\/JS /, '/S /J#61vaScript\n/J#53 ');
    expect(escaped.includes('/JavaScript')).toBe(false);
    expect(await refusal(await fileOf(escaped))).toBe('ATTACHMENT_UNSAFE');
  });

  test('a lowercase hex escape (/#4aS is /JS) inside a compressed object stream is read as what it spells', async () => {
    const link = withLink({ A: { S: 'URI', URI: PDFString.of('https://example.org'), JS: PDFString.of('app.alert(1)') } });
    const bytes = Buffer.from(await letter(link, {}));
    const text = bytes.toString('latin1');
    const objectStream = text.lastIndexOf(' obj', text.indexOf('/Type /ObjStm'));
    const start = text.indexOf('stream\n', objectStream) + 'stream\n'.length;
    const end = text.indexOf('\nendstream', start);
    const objects = inflateSync(bytes.subarray(start, end)).toString('latin1');
    expect(objects).toContain('/S /URI');
    expect(objects).toContain('/JS (');
    // One character less, then one more, within one object: the offsets at the head of the stream stay right.
    const packed = deflateSync(Buffer.from(objects.replace('/S /URI', '/S/URI').replace('/JS (', '/#4aS('), 'latin1'));
    const head = text.slice(0, objectStream) + text.slice(objectStream, start).replace(/\/Length \d+/, `/Length ${packed.length}`);
    const edited = Buffer.concat([Buffer.from(head, 'latin1'), packed, bytes.subarray(end)]);
    expect(await refusal(await fileOf(edited))).toBe('ATTACHMENT_UNSAFE');
  });

  test('a stray "stream" keyword that hides objects from the raw scan does not hide them from the parsed ones', async () => {
    const hidden = 'stream\n99 0 obj\n<< /Length 3 /AA << /O << /S /Named /N /NextPage >> >> >>\nstream\nabc\nendstream\nendobj\n';
    const bytes = rewritten(await letter(), /endobj\n/, `$&${hidden}`);
    expect(await refusal(await fileOf(bytes))).toBe('ATTACHMENT_UNSAFE');
  });

  test('an encrypted PDF is unsafe, also when its objects cannot be parsed', async () => {
    const encrypt = '/Encrypt << /Filter /Standard /V 1 /R 2 /O <' + '00'.repeat(32) + '> /U <' + '00'.repeat(32) + '> /P -4 >>\n';
    const encrypted = rewritten(await letter(), /trailer\s*<<\s*/, `$&${encrypt}`);
    expect(await refusal(await fileOf(encrypted))).toBe('ATTACHMENT_UNSAFE');
    expect(await refusal(await fileOf(`%PDF-1.7\n1 0 obj\n<< garbage ))) >>\nendobj\ntrailer\n<< /Root 1 0 R ${encrypt}>>\n%%EOF\n`))).toBe('ATTACHMENT_UNSAFE');
    // A stray "stream" before the trailer hides the rest of the file from the raw scan, not from the parser.
    const hidden = rewritten(await letter(), /trailer\s*<<\s*/, `stream\n$&${encrypt}`);
    expect(await refusal(await fileOf(hidden))).toBe('ATTACHMENT_UNSAFE');
  });

  test('the unsafe refusal says what is not accepted and what to do', async () => {
    const pdf = await letter((doc) => doc.catalog.set(PDFName.of('OpenAction'), javaScriptAction(doc)));
    expect(await messageOf(await fileOf(pdf))).toBe(
      'PDFs with scripts, actions, attachments or encryption (a password) are not accepted. Print the document to a new PDF and attach that instead.',
    );
  });

  test.each([
    ['a PDF header and then junk', () => fileOf(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31 + 7) % 256))]))],
    ['a PDF header alone', () => fileOf('%PDF-1.7\n')],
    ['a PDF without a page', async () => fileOf(await (await PDFDocument.create()).save({ addDefaultPage: false }))],
    ['a letter cut short', async () => fileOf((await letter()).subarray(0, 400))],
  ])('%s is unreadable', async (_, make) => {
    expect(await refusal(await make())).toBe('ATTACHMENT_UNREADABLE');
  });
});
