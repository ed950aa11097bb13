/**
 * The files of the `attachments` scenario, about 5 MB each, every upload's
 * bytes different from the others': CareThread stores contents once per
 * SHA-256, so the same bytes twice would skip the store and measure less than
 * an upload does.
 */
import { randomFillSync } from 'node:crypto';
import { concatTransformationMatrix, drawObject, PDFDocument, popGraphicsState, pushGraphicsState } from 'pdf-lib';
import sharp from 'sharp';

/** A file to upload as `name`, of `type`, and a different one of the same size for each number. */
export interface BenchFile {
  name: string;
  type: string;
  size: number;
  /** Whether CareThread stores the bytes as they came (a PDF) rather than re-encoded (an image). */
  storedAsSent: boolean;
  /** The i-th variant: the same kind of file with different bytes (i >= 0). */
  variant(i: number): Promise<Uint8Array>;
}

/**
 * A valid one-page PDF of about `bytes`: an uncompressed RGB image of random
 * pixels, drawn over the page. The variants differ in the image's first
 * pixels, rewritten in place (the stream's length and the cross-reference
 * table stay right), so each is as valid as the first and as costly to check.
 */
export async function pdfOfSize(bytes = 5 * 1000 * 1000): Promise<BenchFile> {
  const side = Math.round(Math.sqrt(bytes / 3));
  const pixels = randomFillSync(Buffer.alloc(side * side * 3));
  const doc = await PDFDocument.create();
  const image = doc.context.register(doc.context.stream(pixels, { Type: 'XObject', Subtype: 'Image', Width: side, Height: side, ColorSpace: 'DeviceRGB', BitsPerComponent: 8 }));
  const page = doc.addPage([600, 600]);
  const name = page.node.newXObject('Im', image);
  page.pushOperators(pushGraphicsState(), concatTransformationMatrix(600, 0, 0, 600, 0, 0), drawObject(name), popGraphicsState());
  const pdf = Buffer.from(await doc.save({ useObjectStreams: false }));
  const at = pdf.indexOf(pixels.subarray(0, 64));
  if (at < 0) throw new Error('the image is not in the saved PDF');
  return {
    name: 'scan.pdf',
    type: 'application/pdf',
    size: pdf.length,
    storedAsSent: true,
    async variant(i) {
      const copy = Buffer.from(pdf);
      copy.writeUInt32BE(i, at);
      return copy;
    },
  };
}

/**
 * A photo as a phone takes it: 4000 x 3000 pixels (12 MP), a JPEG of about
 * 5 MB. Its pixels are grey noise (its strength sets the size); each variant is encoded again with its number drawn into the pixels, since
 * CareThread re-encodes an image and stores the result: only different pixels
 * give different stored bytes.
 */
export async function jpegOfSize(width = 4000, height = 3000): Promise<BenchFile> {
  const raw = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 17 } } })
    .raw()
    .toBuffer();
  const encode = (pixels: Buffer) =>
    sharp(pixels, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
  const variant = async (i: number) => {
    const pixels = Buffer.from(raw);
    // A 64 x 64 block per bit of the number, black or white, in the top-left corner.
    for (let bit = 0; bit < 16; bit++) {
      const value = (i >> bit) & 1 ? 255 : 0;
      for (let y = 0; y < 64; y++) pixels.fill(value, (y * width + bit * 64) * 3, (y * width + bit * 64 + 64) * 3);
    }
    return encode(pixels);
  };
  const first = await variant(0);
  return { name: 'photo.jpg', type: 'image/jpeg', size: first.length, storedAsSent: false, variant };
}
