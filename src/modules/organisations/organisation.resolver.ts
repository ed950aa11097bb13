import { Arg, ID, Mutation, Query, Resolver } from 'type-graphql';
import { Viewer } from '../auth/viewer.decorator';
import type { User } from '../users/user.entity';
import { FirstAdminInput } from './first-admin.input';
import { Organisation } from './organisation.entity';
import type { OrganisationService } from './organisation.service';

@Resolver(() => Organisation)
export class OrganisationResolver {
  constructor(private readonly deps: { organisations: OrganisationService }) {}

  @Query(() => [Organisation], { description: 'Every organisation, for a platform admin; the caller\'s own for a professional; none for a patient.' })
  organisations(@Viewer() viewer: User): Promise<Organisation[]> {
    return this.deps.organisations.list(viewer);
  }

  @Mutation(() => Organisation, {
    description:
      'Platform admins only: a new organisation with its first admin (a non-contactable professional, who creates the rest of it). Automatic CC is allowed in it only when autoCcAllowed (setOrganisationAutoCc changes it).',
  })
  createOrganisation(
    @Viewer() viewer: User,
    @Arg('name') name: string,
    @Arg('firstAdmin') firstAdmin: FirstAdminInput,
    @Arg('autoCcAllowed', () => Boolean, { defaultValue: false, nullable: true }) autoCcAllowed: boolean | null,
  ): Promise<Organisation> {
    return this.deps.organisations.create(viewer, name, autoCcAllowed ?? false, firstAdmin);
  }

  @Mutation(() => Organisation, { description: "Platform admins, for any organisation; an organisation's admins, for their own. Names are unique." })
  renameOrganisation(@Viewer() viewer: User, @Arg('organisationId', () => ID) organisationId: string, @Arg('name') name: string): Promise<Organisation> {
    return this.deps.organisations.rename(viewer, organisationId, name);
  }
}
