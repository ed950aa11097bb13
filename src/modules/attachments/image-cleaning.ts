import { rm } from 'node:fs/promises';
import sharp from 'sharp';

/**
 * The only decoders sharp may use in this process: libvips' JPEG, PNG and WebP
 * loaders reading from a file. Everything else (TIFF, GIF, SVG, HEIF, PDF,
 * ImageMagick, and these three reading from a buffer) is blocked, so a file
 * that slips past the magic-bytes check still meets no other parser.
 */
const LOADERS = ['VipsForeignLoadJpegFile', 'VipsForeignLoadPngFile', 'VipsForeignLoadWebpFile'];
sharp.cache(false);
sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({ operation: LOADERS });

/** Larger images are refused before they are decoded (a small file may claim huge dimensions). */
export const MAX_PIXELS = 50_000_000;
const THUMBNAIL_SIZE = 160;

/**
 * 'error' also refuses truncated data; only the first frame of an animated
 * WebP (or APNG) is read, so it is stored as a still.
 */
const INPUT: sharp.SharpOptions = { failOn: 'error', limitInputPixels: MAX_PIXELS };

export type ImageFormat = 'jpeg' | 'png' | 'webp';
export type ImageFault = 'unreadable' | 'too-large';

export interface CleanImage {
  /** After the EXIF orientation is applied. */
  width: number;
  height: number;
  /** WebP, base64. */
  thumbnail: string;
}

/**
 * Decodes the image at `source` and writes it to `target` re-encoded in
 * `format`, upright and without metadata: sharp keeps none unless asked, and
 * an ICC profile is applied (pixels converted to sRGB) and then dropped, so
 * no byte of the upload reaches a reader's decoder. On a fault nothing is left
 * at `target`; an error writing `target` is thrown as it is.
 */
export async function cleanImage(source: string, target: string, format: ImageFormat): Promise<CleanImage | ImageFault> {
  try {
    const { width, height } = await encode(sharp(source, INPUT).autoOrient(), format).toFile(target);
    const thumbnail = await sharp(target, INPUT)
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 60 })
      .toBuffer();
    return { width, height, thumbnail: thumbnail.toString('base64') };
  } catch (error) {
    // libvips removes a half-written file today; the contract should not rest on that.
    await rm(target, { force: true });
    const message = error instanceof Error ? error.message : '';
    // libvips starts a line with the path of a file it could not open or write.
    if (message.split('\n').some((line) => line.startsWith(`${target}: `))) throw error;
    return message.includes('pixel limit') ? 'too-large' : 'unreadable';
  }
}

function encode(image: sharp.Sharp, format: ImageFormat): sharp.Sharp {
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality: 85, mozjpeg: false });
    case 'png':
      return image.png();
    case 'webp':
      return image.webp({ quality: 85 });
  }
}
