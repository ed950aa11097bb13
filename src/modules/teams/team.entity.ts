import { Field, ID, Int, ObjectType } from 'type-graphql';
import { BeforeInsert, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { searchKey } from '../../common/text';

@ObjectType()
@Entity('teams')
@Index('UQ_teams_organisation_name', ['organisationId', 'name'], { unique: true })
export class Team {
  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Field()
  /** Used once in its organisation. */
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** searchKey(name), set on insert (names never change): what `recipients(search:)` compares. Not in the API. */
  @Index('IDX_teams_search_name')
  @Column({ type: 'text', default: '' })
  searchName!: string;

  @Field({ description: 'When true the team is offered as one recipient and its members cannot be picked one by one.' })
  @Column({ type: 'boolean' })
  autoCc!: boolean;

  @Field(() => Int, {
    nullable: true,
    description: "How long a patient's message may wait for a professional's reply before every present member is alerted; null: no alerts.",
  })
  @Column({ type: 'integer', nullable: true })
  waitingLimitMinutes!: number | null;

  @Field(() => Int, { description: 'An auto-CC team keeps at least this many contactable members: changes that would take it below are refused. Set by an admin.' })
  @Column({ type: 'integer', default: 2 })
  minimumContactable!: number;

  /** Not in the API as an id: `organisation`. */
  @Column({ type: 'varchar', length: 36 })
  organisationId!: string;

  @Column()
  createdAt!: Date;

  @BeforeInsert()
  protected fillSearchName(): void {
    this.searchName = searchKey(this.name);
  }
}
