import { Directive, Field, ID, InputType } from 'type-graphql';

@InputType({ description: 'Exactly one of teamId and userId (a OneOf input object: any other value is refused before the operation runs).' })
@Directive('@oneOf')
export class RecipientInput {
  @Field(() => ID, { nullable: true })
  teamId?: string | null;

  @Field(() => ID, { nullable: true })
  userId?: string | null;

  /** The one id given: the schema lets no other value through. */
  exactlyOne(): { teamId: string; userId?: undefined } | { userId: string; teamId?: undefined } {
    return this.teamId != null ? { teamId: this.teamId } : { userId: this.userId! };
  }
}
