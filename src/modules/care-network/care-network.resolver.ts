import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { Viewer } from '../auth/viewer.decorator';
import { RecipientInput } from '../recipients/recipient.input';
import type { User } from '../users/user.entity';

@Resolver()
export class CareNetworkResolver {
  @Mutation(() => Boolean, {
    description: 'The patient themself, or an admin: lets the patient and this team or professional message each other.',
  })
  shareRecord(
    @Viewer() viewer: User,
    @Arg('patientId', () => ID) patientId: string,
    @Arg('recipient', () => RecipientInput) recipient: RecipientInput,
    @Ctx() ctx: Context,
  ): Promise<boolean> {
    return ctx.app.careNetwork.shareRecord(viewer, patientId, recipient);
  }
}
