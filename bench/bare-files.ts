/**
 * The reference for the `attachments` scenario, run as its own process: the
 * least a server can do for the same requests. POST /attachments streams the
 * `file` part of a multipart/form-data request to a file in BARE_FILES_DIR
 * (with busboy, as CareThread does) and answers 201 with {id, size, url};
 * GET /attachments/<id> streams that file back (fs.createReadStream). No
 * sign-in, no check of the contents, no hash, no database, no fsync.
 * Prints {"url": ...} once listening.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';

const DIR = process.env.BARE_FILES_DIR!;
const PATH = '/attachments';

const answer = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const server = createServer((req, res) => {
  const fail = (error: unknown) => (res.headersSent ? res.destroy() : answer(res, 400, { errors: [{ message: String(error) }] }));
  if (req.method === 'POST' && req.url === PATH) {
    const id = randomUUID();
    let written: Promise<number> | null = null;
    const parser = busboy({ headers: req.headers, limits: { files: 1 } });
    parser.on('file', (_field, stream) => {
      let size = 0;
      stream.on('data', (chunk: Buffer) => (size += chunk.length));
      written = pipeline(stream, createWriteStream(join(DIR, id))).then(() => size);
    });
    parser.on('close', () => (written ?? Promise.reject(new Error('no file'))).then((size) => answer(res, 201, { id, size, url: `${PATH}/${id}` }), fail));
    parser.on('error', fail);
    req.pipe(parser);
  } else if (req.method === 'GET' && req.url?.startsWith(`${PATH}/`)) {
    const path = join(DIR, req.url.slice(PATH.length + 1).replace(/[^0-9a-f-]/g, ''));
    stat(path)
      .then(
        ({ size }) => {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
          return pipeline(createReadStream(path), res);
        },
        () => answer(res, 404, { errors: [{ message: 'not found' }] }),
      )
      .catch(fail);
  } else answer(res, 404, { errors: [{ message: 'not found' }] });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/` }));
});
