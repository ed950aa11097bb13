import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { In, IsNull, LessThan, type DataSource, type EntityManager } from 'typeorm';
import type { Clock } from '../../common/clock';
import { Ticker } from '../../common/ticker';
import type { Logger } from '../../logger';
import { tablePath } from '../../database/table-path';
import { isId, newId } from '../../common/ids';
import type { AttachmentConfig } from '../../config';
import { badUserInput, notFound, tooManyRequests } from '../../errors';
import type { AttachmentData } from '../../events/event-bus';
import { attachmentData } from './message-attachments';
import { AuditAction } from '../audit/audit-action';
import type { AuditedTx, AuditedUnitOfWork } from '../audit/audit-entry';
import type { AuditService } from '../audit/audit.service';
import { Message } from '../messages/message.entity';
import { visibleMessages } from '../threads/thread-visibility';
import type { User } from '../users/user.entity';
import { AttachmentContent } from './attachment-content.entity';
import { cleanFileName, CONTENTS_GRACE_MS, DAILY_WINDOW_MS, describeBytes, UNATTACHED_TTL_MS } from './attachment-rules';
import { Attachment } from './attachment.entity';
import type { BlobStore } from './blob-store';
import { inspect } from './content-inspection';
import type { ReceivedFile } from './multipart-file';

export interface AttachmentDeps {
  db: DataSource;
  uow: AuditedUnitOfWork;
  store: BlobStore;
  config: AttachmentConfig;
  audit: AuditService;
  clock: Clock;
  logger: Logger;
}

/** How often each instance removes uploads never sent and contents nothing names. */
const SWEEP_MS = 10 * 60 * 1000;

/**
 * Files on messages: checks and stores an upload, attaches uploads to a
 * message in its transaction, opens one for a download by whoever may see its
 * message now, and removes uploads never sent.
 */
export class AttachmentService {
  /** Decoding and re-encoding take a core each: more at once would only queue inside libvips and hold more memory. */
  private readonly checking = pLimit(Math.max(1, availableParallelism()));
  private readonly sweeper: Ticker;

  constructor(private readonly deps: AttachmentDeps) {
    this.sweeper = new Ticker(SWEEP_MS, () => this.sweep(), (error) => deps.logger.error({ err: error }, 'could not remove unsent uploads; trying again later'));
  }

  /** Sweeps every 10 minutes until stopped (startServer starts it). */
  start(): void {
    this.sweeper.start();
  }

  stop(): Promise<void> {
    return this.sweeper.stop();
  }

  /** Refuses (429) an account whose uploads of the last 24 hours reach ATTACHMENT_DAILY_BYTES with `incoming` more bytes. */
  async checkAllowance(m: EntityManager, owner: User, incoming: number): Promise<void> {
    const since = new Date(this.deps.clock.now().getTime() - DAILY_WINDOW_MS);
    const row = await m
      .createQueryBuilder(Attachment, 'a')
      .select('COALESCE(SUM(a.size), 0)', 'used')
      .where('a.ownerId = :ownerId AND a.createdAt > :since', { ownerId: owner.id, since })
      .getRawOne<{ used: string | number }>();
    const limit = this.deps.config.dailyBytesPerUser;
    if (Number(row?.used ?? 0) + incoming > limit) {
      throw tooManyRequests(`You may upload ${describeBytes(limit)} in 24 hours; try again later`);
    }
  }

  /**
   * Checks a received file (content-inspection.ts), stores its cleaned bytes
   * under their SHA-256 and records the upload, its owner's until they send it.
   * Nothing is recorded unless all of it worked, the daily allowance checked
   * again with its size. `workDir` is the caller's, for the cleaned copy.
   */
  async receive(owner: User, file: ReceivedFile, workDir: string): Promise<Attachment> {
    const cleaned = `${workDir}/cleaned`;
    const inspected = await this.checking(() => inspect(file.path, cleaned, { contentType: file.contentType, fileName: file.fileName }));
    const { sha256, size } = await digest(cleaned);
    // Claimed before the bytes are stored: the sweep leaves contents claimed within the hour alone.
    await this.deps.db.manager.upsert(AttachmentContent, { sha256, size, touchedAt: this.deps.clock.now() }, ['sha256']);
    await this.deps.store.put(sha256, cleaned, size);
    const attachment = Object.assign(new Attachment(), {
      id: newId(),
      ownerId: owner.id,
      sha256,
      name: cleanFileName(file.fileName),
      contentType: inspected.contentType,
      size,
      width: inspected.width,
      height: inspected.height,
      thumbnail: inspected.thumbnail,
      createdAt: this.deps.clock.now(),
      threadId: null,
      messageId: null,
      position: null,
    });
    await this.deps.uow.run(async (tx) => {
      await this.checkAllowance(tx.manager, owner, size);
      await tx.manager.insert(Attachment, attachment);
      await tx.audit({ actor: owner, action: AuditAction.AttachmentUploaded, subjectUserId: owner.id });
    });
    return attachment;
  }

  /**
   * In the send's transaction: gives the author's uploads `ids` to the message,
   * in that order. BAD_USER_INPUT, and so nothing sent, when one is not an
   * upload of theirs waiting to be sent (someone else's, sent already, removed).
   */
  async attach(tx: AuditedTx, author: User, message: Pick<Message, 'id' | 'threadId'>, ids: readonly string[]): Promise<AttachmentData[]> {
    const m = tx.manager;
    const uploads = ids.every(isId) ? await m.findBy(Attachment, { id: In([...ids]), ownerId: author.id, messageId: IsNull() }) : [];
    const missing = ids.find((id) => !uploads.some((a) => a.id === id));
    if (missing !== undefined) throw badUserInput(`Attachment ${missing} is not an upload of yours waiting to be sent`);
    const attached: Attachment[] = [];
    for (const [position, id] of ids.entries()) {
      // Conditional: a second send racing for the same upload finds it taken.
      const { affected } = await m.update(Attachment, { id, messageId: IsNull() }, { messageId: message.id, threadId: message.threadId, position });
      if (affected !== 1) throw badUserInput(`Attachment ${id} is not an upload of yours waiting to be sent`);
      attached.push(uploads.find((a) => a.id === id)!);
    }
    return attached.map(attachmentData);
  }

  /**
   * The attachment `id` if `viewer` may download it now: a current participant
   * of its thread (a patient never gets a staff-only note's), or the uploader of
   * one not yet sent. NOT_FOUND otherwise, as for one that does not exist.
   */
  async readable(viewer: User, id: string): Promise<Attachment> {
    const m = this.deps.db.manager;
    const attachment = isId(id) ? await m.findOneBy(Attachment, { id }) : null;
    if (attachment && (await this.mayRead(m, viewer, attachment))) return attachment;
    await this.deps.audit.denied({ actor: viewer, action: AuditAction.AttachmentRead, threadId: attachment?.threadId ?? null, messageId: attachment?.messageId ?? null, denied: 'NOT_FOUND' });
    throw notFound('Attachment');
  }

  /** A sent file goes with its message: whoever may see the message now (thread-visibility.ts, the one rule), in one statement. */
  private async mayRead(m: EntityManager, viewer: User, attachment: Attachment): Promise<boolean> {
    if (!attachment.messageId) return attachment.ownerId === viewer.id;
    return visibleMessages(m.createQueryBuilder(Message, 'msg'), viewer, 'msg').where('msg.id = :messageId', { messageId: attachment.messageId }).getExists();
  }

  /** The bytes of an attachment `readable` allowed, once its read is in the audit trail. */
  async open(viewer: User, attachment: Attachment): Promise<Readable> {
    await this.deps.uow.run((tx) =>
      tx.audit({ actor: viewer, action: AuditAction.AttachmentRead, threadId: attachment.threadId, messageId: attachment.messageId, subjectUserId: attachment.messageId ? null : viewer.id }),
    );
    return this.deps.store.get(attachment.sha256);
  }

  /** Removes uploads never sent within a day, then contents nothing names any more (their bytes last). */
  async sweep(): Promise<{ uploads: number; contents: number }> {
    const now = this.deps.clock.now().getTime();
    const m = this.deps.db.manager;
    const { affected } = await m.delete(Attachment, { messageId: IsNull(), createdAt: LessThan(new Date(now - UNATTACHED_TTL_MS)) });
    const before = new Date(now - CONTENTS_GRACE_MS);
    const unnamed = await m
      .createQueryBuilder(AttachmentContent, 'c')
      .select('c.sha256', 'sha256')
      .where('c.touchedAt < :before', { before })
      .andWhere((q) => `NOT EXISTS ${q.subQuery().select('1').from(Attachment, 'a').where('a.sha256 = c.sha256').getQuery()}`)
      .getRawMany<{ sha256: string }>();
    const gone: string[] = [];
    for (const { sha256 } of unnamed) {
      // Again, one by one: an upload may have claimed the contents since they were listed.
      const removed = await m
        .createQueryBuilder()
        .delete()
        .from(AttachmentContent)
        .where('"sha256" = :sha256 AND "touchedAt" < :before', { sha256, before })
        .andWhere(`NOT EXISTS (SELECT 1 FROM ${tablePath(m, 'attachments')} WHERE "sha256" = :sha256)`)
        .execute();
      if (removed.affected) gone.push(sha256);
    }
    await this.deps.store.delete(gone);
    return { uploads: affected ?? 0, contents: gone.length };
  }
}

async function digest(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
