import { IsEmail, Length } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { UserKind } from './user-kind';

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
  @Length(8, 200, { message: 'password must be 8 to 200 characters' })
  password!: string;

  @Field(() => Boolean, { defaultValue: true, nullable: true })
  contactable?: boolean | null;

  @Field(() => Boolean, { defaultValue: false, nullable: true })
  isAdmin?: boolean | null;
}
