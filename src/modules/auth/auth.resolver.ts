import { Arg, Ctx, Field, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { Context } from '../../request-context';
import type { UserService } from '../users/user.service';
import { User } from '../users/user.entity';

@ObjectType()
export class AuthPayload {
  @Field()
  token!: string;

  @Field(() => User)
  user!: User;
}

@Resolver()
export class AuthResolver {
  constructor(private readonly deps: { users: UserService }) {}

  /** The one operation open to anonymous callers. */
  @Mutation(() => AuthPayload)
  login(@Arg('email') email: string, @Arg('password') password: string, @Ctx() ctx: Context): Promise<AuthPayload> {
    return this.deps.users.login(email, password, ctx.client.ip);
  }
}
