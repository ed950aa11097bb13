import { Field, ObjectType } from 'type-graphql';
import { PageInfo } from '../../common/pagination';
import { ThreadTeam } from '../threads/thread-team.entity';

@ObjectType()
export class TeamInboxEdge {
  @Field()
  cursor!: string;

  @Field(() => ThreadTeam)
  node!: ThreadTeam;
}

@ObjectType()
export class TeamInboxConnection {
  @Field(() => [TeamInboxEdge])
  edges!: TeamInboxEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
