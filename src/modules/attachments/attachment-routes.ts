import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { create as contentDisposition } from 'content-disposition';
import express from 'express';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import helmet from 'helmet';
import type { App } from '../../app';
import { withOrigin } from '../../common/request-origin';
import { sourceOf, type TrustProxy } from '../../context';
import { ErrorCode, formatError, INTERNAL, unauthenticated } from '../../errors';
import type { Logger } from '../../logger';
import { TokenService } from '../auth/token.service';
import type { User } from '../users/user.entity';
import { ATTACHMENTS_PATH, linkHolder } from './attachment-link';
import type { Attachment } from './attachment.entity';
import { AttachmentType } from './attachment.types';
import { AttachmentRefused } from './content-inspection';
import { receiveFile, UploadRefused } from './multipart-file';

// A download is never a page: no script runs, no plugin, no frame, whatever a browser makes of it.
const downloadHeaders = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], sandbox: [], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: false,
});

const STATUS: Record<string, number> = {
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.TooManyRequests]: 429,
  [ErrorCode.DatabaseBusy]: 503,
  [INTERNAL]: 500,
  ATTACHMENT_TYPE_NOT_ALLOWED: 415,
  ATTACHMENT_TYPE_MISMATCH: 415,
  ATTACHMENT_UNREADABLE: 422,
  ATTACHMENT_UNSAFE: 422,
};

/**
 * POST /attachments uploads one file (multipart/form-data, part `file`) and
 * answers 201 with its Attachment, to send with a message by its id. GET
 * /attachments/<id> downloads one, with the bearer token or a link of
 * attachmentLink. Only `Authorization: Bearer` (or the link's own token)
 * signs a request in: no cookie, so another site cannot make a browser upload
 * or download (CSRF), and its script cannot send the header without the CORS
 * this server never grants. Refusals answer JSON errors with codes, as the API does.
 */
export function serveAttachments(expressApp: express.Express, app: App, trust: TrustProxy): void {
  const { attachments, config } = app;
  const fail = (req: express.Request, res: express.Response, error: unknown) => {
    const { status, body } = answer(error, app.logger);
    if (res.headersSent) return void res.destroy();
    // What is left of a refused upload is not read: the connection goes with the answer.
    if (!req.complete) res.setHeader('connection', 'close');
    const retryAfter = body.errors[0]?.extensions?.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
    res.status(status).json(body);
  };
  // The audit events a request records name where it came from.
  const handled =
    (handle: (req: express.Request, res: express.Response) => Promise<void>) =>
    (req: express.Request, res: express.Response): void =>
      void withOrigin({ requestId: req.id as string, ...sourceOf(req, trust) }, () => handle(req, res).catch((error: unknown) => fail(req, res, error)));

  const bearerUser = async (req: express.Request): Promise<User> => {
    const token = TokenService.bearer(req.headers.authorization);
    if (!token) throw unauthenticated('Sign in to upload or download attachments: send Authorization: Bearer <token>');
    return (await app.users.byToken(token)).user;
  };

  expressApp.post(
    ATTACHMENTS_PATH,
    handled(async (req, res) => {
      const viewer = await bearerUser(req);
      await attachments.checkAllowance(app.db.manager, viewer, 0);
      const dir = await mkdtemp(join(tmpdir(), 'carethread-upload-'));
      let attachment: Attachment;
      try {
        const file = await receiveFile(req, join(dir, 'received'), config.attachments.maxFileBytes);
        attachment = await attachments.receive(viewer, file, dir);
      } finally {
        // Before the answer: a server stopped once the client has it leaves no file behind.
        await rm(dir, { recursive: true, force: true });
      }
      const { id, name, contentType, size, width, height, thumbnailUrl, url } = Object.assign(new AttachmentType(), attachment);
      res.status(201).json({ id, name, contentType, size, width, height, thumbnail: thumbnailUrl, url });
    }),
  );

  expressApp.get(
    `${ATTACHMENTS_PATH}/:id`,
    downloadHeaders,
    handled(async (req, res) => {
      const id = String(req.params.id);
      const token = typeof req.query.token === 'string' ? req.query.token : null;
      const holder = token && !req.headers.authorization ? await linkHolder(config.jwtSecret, token, id, app.clock.now()) : null;
      if (token && !req.headers.authorization && !holder) throw new GraphQLError('This download link is not valid or has expired: ask for a new one', { extensions: { code: 'INVALID_ATTACHMENT_LINK' } });
      const viewer = holder ? (await app.users.signedIn(holder.userId, holder.sessionId)).user : await bearerUser(req);
      const attachment = await attachments.readable(viewer, id);
      const bytes = await attachments.open(viewer, attachment);
      res.writeHead(200, {
        'content-type': attachment.contentType,
        'content-length': attachment.size,
        'content-disposition': contentDisposition(attachment.name),
        'cache-control': 'private, no-store',
      });
      await pipeline(bytes, res);
    }),
  );
}

/**
 * The status and JSON body of a refusal: the upload's own codes, else the
 * API's error as formatError words it (a busy database; anything unexpected
 * logged and masked with the request id).
 */
function answer(error: unknown, logger: Logger): { status: number; body: { errors: GraphQLFormattedError[] } } {
  if (error instanceof UploadRefused || error instanceof AttachmentRefused) {
    const status = error instanceof UploadRefused ? error.status : (STATUS[error.code] ?? 422);
    return { status, body: { errors: [{ message: error.message, extensions: { code: error.code } }] } };
  }
  const formatted = formatError(error instanceof GraphQLError ? error.toJSON() : { message: '' }, error, logger);
  return { status: STATUS[String(formatted.extensions?.code)] ?? 400, body: { errors: [formatted] } };
}
