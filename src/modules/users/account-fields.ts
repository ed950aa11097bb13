import { IsEmail, Length } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { IsNewPassword } from './user-rules';

/** What every new account is given: CreateUserInput, and an organisation's first admin (FirstAdminInput). */
@InputType()
export abstract class AccountFields {
  @Field()
  @IsEmail({}, { message: 'email must be an email address' })
  @Length(3, 254)
  email!: string;

  /** Checked by requireName. */
  @Field()
  name!: string;

  @Field()
  @IsNewPassword()
  password!: string;
}
