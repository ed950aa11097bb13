import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { Viewer } from '../auth/viewer.decorator';
import { User } from '../users/user.entity';
import { AuditEvent } from './audit-event.entity';

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => [AuditEvent], { description: 'Who did what in a thread, oldest first. Participants and admins only.' })
  auditTrail(@Viewer() viewer: User, @Arg('threadId', () => ID) threadId: string, @Ctx() ctx: Context): Promise<AuditEvent[]> {
    return ctx.app.audit.trail(viewer, threadId);
  }

  @FieldResolver(() => User, { description: 'The individual who acted; never a team or a shared account.' })
  actor(@Root() event: AuditEvent, @Ctx() ctx: Context): Promise<User | null> {
    return ctx.loaders.user.load(event.actorId);
  }

  @FieldResolver(() => User, { nullable: true, description: 'The user acted upon, e.g. the participant added.' })
  async subject(@Root() event: AuditEvent, @Ctx() ctx: Context): Promise<User | null> {
    return event.subjectUserId ? ctx.loaders.user.load(event.subjectUserId) : null;
  }
}
