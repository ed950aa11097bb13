import { Field, ID, ObjectType } from 'type-graphql';
import { BeforeInsert, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { searchKey } from '../../common/text';
import { UserKind } from './user-kind';

@ObjectType()
@Entity('users')
@Index('IDX_users_external_identity', ['externalIssuer', 'externalSubject'], { unique: true })
// The recipient drop-down's (src/migrations/1772450000000-recipient-indexes.ts).
@Index('IDX_users_offer', ['name', 'id', 'searchName', 'kind', 'contactable', 'disabled'])
@Index('IDX_users_reach', ['id', 'kind', 'contactable', 'disabled', 'searchName', 'name', 'isAdmin'])
export class User {
  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Stored lower-case; the login name. Not in the API. */
  @Column({ type: 'varchar', length: 254, unique: true })
  email!: string;

  @Field()
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** searchKey(name), set on insert (names never change): what `recipients(search:)` compares. Not in the API. */
  @Index('IDX_users_search_name')
  @Column({ type: 'text', default: '' })
  searchName!: string;

  @Field(() => UserKind)
  @Column({ type: 'varchar', length: 16 })
  kind!: UserKind;

  @Field({ description: 'Professionals only: shown in recipient lists and added through teams. Always false for patients.' })
  @Column({ type: 'boolean' })
  contactable!: boolean;

  @Field({ description: "Manages their organisation's users, teams and settings." })
  @Column({ type: 'boolean' })
  isAdmin!: boolean;

  @Field({ description: 'Creates organisations with their first admin, and allows automatic CC in them: the start-up admin (ADMIN_EMAIL).' })
  @Column({ type: 'boolean', default: false })
  isPlatformAdmin!: boolean;

  /** The organisation of a professional; null for a patient, who shares their record across organisations. Not in the API as an id: `organisation`. */
  @Index('IDX_users_organisation')
  @Column({ type: 'varchar', length: 36, nullable: true })
  organisationId!: string | null;

  /** For a patient: the organisation whose admin created or imported them, whose admins may act for them (care-network/organisation-reach.ts). Null for professionals. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  registeredByOrganisationId!: string | null;

  @Field({ description: 'Set by an admin: the account cannot sign in, its tokens and live connections stop working, and nobody can pick it as a recipient.' })
  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /** scrypt hash with its parameters; never a @Field. */
  @Column({ type: 'varchar', length: 300 })
  passwordHash!: string;

  @Column()
  createdAt!: Date;

  /** The OIDC issuer whose subject `externalSubject` is; null until the first sign-in through it. Not in the API. */
  @Column({ type: 'varchar', length: 300, nullable: true })
  externalIssuer!: string | null;

  /** The `sub` this staff account signs in as at `externalIssuer` (see external-identity.ts). Not in the API. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  externalSubject!: string | null;

  @BeforeInsert()
  protected fillSearchName(): void {
    this.searchName = searchKey(this.name);
  }
}

export const isProfessional = (user: Pick<User, 'kind'>) => user.kind === UserKind.PROFESSIONAL;

/** Can be reached by messages now: a contactable professional whose account is enabled. */
export const isContactable = (user: Pick<User, 'kind' | 'contactable' | 'disabled'>) => isProfessional(user) && user.contactable && !user.disabled;

/** Who does something, as the audit trail and in-transaction events name them (with the organisations the audit files it under). */
export type Actor = Pick<User, 'id' | 'kind' | 'isAdmin' | 'organisationId' | 'registeredByOrganisationId'>;
