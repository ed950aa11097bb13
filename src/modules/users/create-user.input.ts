import { IsEmail, Length } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { UserKind } from './user-kind';
import { IsNewPassword } from './user-rules';

@InputType()
export class CreateUserInput {
  @Field()
  @IsEmail({}, { message: 'email must be an email address' })
  @Length(3, 254)
  email!: string;

  /** Checked by requireName. */
  @Field()
  name!: string;

  @Field(() => UserKind)
  kind!: UserKind;

  @Field()
  @IsNewPassword()
  password!: string;

  @Field(() => Boolean, { defaultValue: true, nullable: true })
  contactable?: boolean | null;

  @Field(() => Boolean, { defaultValue: false, nullable: true })
  isAdmin?: boolean | null;
}
