import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A professional away from `startsAt` to `endsAt`: shown as away, left out of escalation alerts, still free to read and reply. */
@ObjectType({ description: "A professional's absence. Staff only: patients see just the user's awayUntil." })
@Entity('absences')
@Index('IDX_absences_user_end', ['userId', 'endsAt'])
export class Absence {
  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Field(() => ID)
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  @Field()
  @Column()
  startsAt!: Date;

  @Field()
  @Column()
  endsAt!: Date;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', length: 200, nullable: true })
  reason!: string | null;

  @Column({ type: 'varchar', length: 36 })
  recordedById!: string;

  @Field()
  @Column()
  recordedAt!: Date;
}
