import { InputType } from 'type-graphql';
import { AccountFields } from '../users/account-fields';

/** The first admin of a new organisation: a non-contactable professional, who then creates the rest. */
@InputType()
export class FirstAdminInput extends AccountFields {}
