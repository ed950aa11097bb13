import { Field, ID, InputType } from 'type-graphql';
import { badUserInput } from '../../errors';

@InputType({ description: 'Exactly one of teamId and userId.' })
export class RecipientInput {
  @Field(() => ID, { nullable: true })
  teamId?: string | null;

  @Field(() => ID, { nullable: true })
  userId?: string | null;

  /** BAD_USER_INPUT unless exactly one of the two ids is given. */
  exactlyOne(): { teamId: string; userId?: undefined } | { userId: string; teamId?: undefined } {
    if (this.teamId && !this.userId) return { teamId: this.teamId };
    if (this.userId && !this.teamId) return { userId: this.userId };
    throw badUserInput('Each recipient needs exactly one of teamId and userId');
  }
}
