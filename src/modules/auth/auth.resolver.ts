import { Arg, Args, Ctx, Field, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import type { Context } from '../../request-context';
import type { UserService } from '../users/user.service';
import { User } from '../users/user.entity';
import { ChangePasswordArgs } from './change-password.args';
import type { SessionService } from './session.service';
import { Viewer } from './viewer.decorator';

@ObjectType()
export class AuthPayload {
  @Field()
  token!: string;

  @Field(() => User)
  user!: User;
}

@Resolver()
export class AuthResolver {
  constructor(private readonly deps: { users: UserService; sessions: SessionService }) {}

  /** The one operation open to anonymous callers. */
  @Mutation(() => AuthPayload, { description: 'A token naming a new session, until it expires (TOKEN_TTL_SECONDS) or the session ends.' })
  login(@Arg('email') email: string, @Arg('password') password: string, @Ctx() ctx: Context): Promise<AuthPayload> {
    return this.deps.users.login(email, password, ctx.client.ip);
  }

  @Mutation(() => Boolean, {
    description: "Ends the session of this request's token, on every instance: its token is refused and its websockets are closed (4401). Refused (BAD_USER_INPUT) for an identity provider's token.",
  })
  signOut(@Viewer() viewer: User, @Ctx() ctx: Context): Promise<boolean> {
    return this.deps.sessions.signOut(viewer, ctx.sessionId);
  }

  @Mutation(() => Int, { description: "Ends every session of the caller, this one included; returns how many. An identity provider's tokens are not sessions and stay valid." })
  signOutEverywhere(@Viewer() viewer: User): Promise<number> {
    return this.deps.sessions.signOutEverywhere(viewer);
  }

  @Mutation(() => Boolean, {
    description: "Needs the current password (a wrong one counts as a failed sign-in); ends every other session of the caller. The new password is 8 to 200 characters.",
  })
  changePassword(@Viewer() viewer: User, @Args() { currentPassword, newPassword }: ChangePasswordArgs, @Ctx() ctx: Context): Promise<boolean> {
    return this.deps.sessions.changePassword(viewer, ctx.sessionId, currentPassword, newPassword, ctx.client.ip);
  }
}
