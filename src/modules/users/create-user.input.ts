import { Field, InputType } from 'type-graphql';
import { AccountFields } from './account-fields';
import { UserKind } from './user-kind';

@InputType()
export class CreateUserInput extends AccountFields {
  @Field(() => UserKind)
  kind!: UserKind;

  @Field(() => Boolean, { defaultValue: true, nullable: true })
  contactable?: boolean | null;

  @Field(() => Boolean, { defaultValue: false, nullable: true })
  isAdmin?: boolean | null;
}
