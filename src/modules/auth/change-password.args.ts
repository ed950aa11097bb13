import { ArgsType, Field } from 'type-graphql';
import { IsNewPassword } from '../users/user-rules';

@ArgsType()
export class ChangePasswordArgs {
  @Field()
  currentPassword!: string;

  @Field()
  @IsNewPassword()
  newPassword!: string;
}
