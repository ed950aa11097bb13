import { In, type EntityManager } from 'typeorm';
import type { AttachmentData } from '../../events/event-bus';
import { Attachment } from './attachment.entity';

/** What a message says of one attachment, live and in queries. */
export const attachmentData = (a: Attachment): AttachmentData => ({
  id: a.id,
  name: a.name,
  contentType: a.contentType,
  size: a.size,
  width: a.width,
  height: a.height,
  thumbnail: a.thumbnail,
});

/** The attachments of each message, in their order: one query for them all. */
export async function attachmentsOfMessages(m: EntityManager, messageIds: readonly string[]): Promise<AttachmentData[][]> {
  const byMessage = new Map<string, AttachmentData[]>(messageIds.map((id) => [id, []]));
  if (messageIds.length) {
    const rows = await m.find(Attachment, { where: { messageId: In([...messageIds]) }, order: { position: 'ASC' } });
    for (const row of rows) byMessage.get(row.messageId!)?.push(attachmentData(row));
  }
  return messageIds.map((id) => byMessage.get(id)!);
}
