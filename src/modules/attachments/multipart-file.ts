import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { describeBytes } from './attachment-rules';

/** An upload refused before its contents were looked at, with the HTTP status it answers. */
export class UploadRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The one file of a multipart/form-data request, written to disk as it arrived, with what its part declared. */
export interface ReceivedFile {
  path: string;
  size: number;
  fileName?: string;
  contentType?: string;
}

/** Room for the multipart framing around the file: a request longer than the file limit plus this is cut off. */
const FRAMING_BYTES = 64 * 1024;
const FILE_FIELD = 'file';

const tooLarge = (maxBytes: number) => new UploadRefused(413, 'ATTACHMENT_TOO_LARGE', `A file may be at most ${describeBytes(maxBytes)}`);

/**
 * Streams the `file` part of `req` to `path`, never holding more than a piece
 * of it in memory, and stops reading at `maxBytes`: the file's bytes, and the
 * whole request's (a request that announces more is refused before a byte is
 * read). Rejects with UploadRefused: too large (413), not multipart (415), no
 * file or more than one (400), ended before the file did (400 UPLOAD_INCOMPLETE).
 * After a refusal the caller answers with Connection: close; what is left of
 * the request is read and dropped.
 */
export function receiveFile(req: IncomingMessage, path: string, maxBytes: number): Promise<ReceivedFile> {
  const announced = Number(req.headers['content-length']);
  if (announced > maxBytes + FRAMING_BYTES) return Promise.reject(tooLarge(maxBytes));
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { files: 1, fileSize: maxBytes, fields: 10, fieldSize: 1024, parts: 11 } });
  } catch {
    return Promise.reject(new UploadRefused(415, 'UPLOAD_NOT_MULTIPART', 'Send the file as multipart/form-data, in a part named "file"'));
  }
  return new Promise<ReceivedFile>((resolve, reject) => {
    let received: Promise<ReceivedFile> | null = null;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      req.resume();
      reject(error);
    };
    let requestBytes = 0;
    req.on('data', (chunk: Buffer) => {
      requestBytes += chunk.length;
      if (requestBytes > maxBytes + FRAMING_BYTES) fail(tooLarge(maxBytes));
    });
    req.on('close', () => req.complete || fail(incomplete()));
    parser.on('file', (field, stream, info) => {
      if (field !== FILE_FIELD || received) {
        stream.resume();
        return fail(new UploadRefused(400, 'BAD_REQUEST', 'Send one file per upload, in a part named "file"'));
      }
      let size = 0;
      stream.on('data', (chunk: Buffer) => (size += chunk.length));
      stream.on('limit', () => fail(tooLarge(maxBytes)));
      received = pipeline(stream, createWriteStream(path)).then(() => ({ path, size, fileName: info.filename, contentType: info.mimeType }));
      received.catch(fail);
    });
    parser.on('filesLimit', () => fail(new UploadRefused(400, 'BAD_REQUEST', 'Send one file per upload')));
    parser.on('partsLimit', () => fail(new UploadRefused(400, 'BAD_REQUEST', 'Too many parts in the upload')));
    parser.on('error', (error: Error) => fail(/unexpected end/i.test(error.message) ? incomplete() : new UploadRefused(400, 'BAD_REQUEST', 'The upload is not well-formed multipart/form-data')));
    parser.on('close', () => {
      if (!received) return fail(new UploadRefused(400, 'BAD_REQUEST', 'The upload holds no file: send it in a part named "file"'));
      received.then((file) => {
        if (settled) return;
        settled = true;
        resolve(file);
      }, fail);
    });
    req.pipe(parser);
  });
}

const incomplete = () => new UploadRefused(400, 'UPLOAD_INCOMPLETE', 'The upload ended before the file was complete: nothing was stored, send it again');
