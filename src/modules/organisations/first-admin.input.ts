import { IsEmail, Length } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { IsNewPassword } from '../users/user-rules';

/** The first admin of a new organisation: a non-contactable professional, who then creates the rest. */
@InputType()
export class FirstAdminInput {
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
