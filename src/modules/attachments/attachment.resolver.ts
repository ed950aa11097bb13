import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import type { Clock } from '../../common/clock';
import { LiveAudience } from '../../live/audience';
import type { Context } from '../../request-context';
import { Viewer } from '../auth/viewer.decorator';
import { Message } from '../messages/message.entity';
import type { User } from '../users/user.entity';
import { attachmentLink } from './attachment-link';
import type { AttachmentService } from './attachment.service';
import { AttachmentLink, AttachmentType } from './attachment.types';

@Resolver(() => Message)
export class MessageAttachmentsResolver {
  @FieldResolver(() => [AttachmentType], { description: 'Its files, in the order they were sent.' })
  @LiveAudience('shared')
  async attachments(@Root() message: Message, @Ctx() ctx: Context): Promise<AttachmentType[]> {
    const data = message.attachments ?? (await ctx.loaders.attachmentsOfMessage.load(message.id));
    return data.map((attachment) => Object.assign(new AttachmentType(), attachment));
  }
}

@Resolver(() => AttachmentType)
export class AttachmentResolver {
  constructor(private readonly deps: { attachments: AttachmentService; secret: Uint8Array; links: { origin: string }; clock: Clock }) {}

  @Query(() => AttachmentLink, {
    description:
      'A download link for an attachment the viewer may read now (a current participant; a patient never gets a staff-only note’s), valid 5 minutes. NOT_FOUND otherwise.',
  })
  async attachmentLink(@Viewer() viewer: User, @Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<AttachmentLink> {
    await this.deps.attachments.readable(viewer, id);
    return attachmentLink(this.deps.secret, this.deps.links.origin, { userId: viewer.id, sessionId: ctx.sessionId }, id, this.deps.clock.now());
  }
}
