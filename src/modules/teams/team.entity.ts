import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@ObjectType()
@Entity('teams')
export class Team {
  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Field()
  @Column({ type: 'varchar', length: 200, unique: true })
  name!: string;

  @Field({ description: 'When true the team is offered as one recipient and its members cannot be picked one by one.' })
  @Column({ type: 'boolean' })
  autoCc!: boolean;

  @Column()
  createdAt!: Date;
}
