import { Arg, ID, Mutation, Resolver } from 'type-graphql';
import { Viewer } from '../auth/viewer.decorator';
import { RecipientInput } from '../recipients/recipient.input';
import type { User } from '../users/user.entity';
import type { CareNetworkService } from './care-network.service';

@Resolver()
export class CareNetworkResolver {
  constructor(private readonly deps: { careNetwork: CareNetworkService }) {}

  @Mutation(() => Boolean, {
    description: 'The patient themself (a team or professional of any organisation), or an admin for a patient of their organisation (one of theirs): lets the patient and this team or professional message each other.',
  })
  shareRecord(
    @Viewer() viewer: User,
    @Arg('patientId', () => ID) patientId: string,
    @Arg('recipient', () => RecipientInput) recipient: RecipientInput,
  ): Promise<boolean> {
    return this.deps.careNetwork.shareRecord(viewer, patientId, recipient);
  }
}
