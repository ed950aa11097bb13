import { Field, ObjectType } from 'type-graphql';
import { PageInfo } from '../../common/pagination';
import { Thread } from './thread.entity';

@ObjectType()
export class ThreadEdge {
  @Field()
  cursor!: string;

  @Field(() => Thread)
  node!: Thread;
}

@ObjectType()
export class ThreadConnection {
  @Field(() => [ThreadEdge])
  edges!: ThreadEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
