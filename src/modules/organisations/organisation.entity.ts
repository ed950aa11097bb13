import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A clinic, hospital or community service: its professionals and teams belong to it; patients belong to none. */
@ObjectType()
@Entity('organisations')
export class Organisation {
  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Field()
  @Column({ type: 'varchar', length: 200, unique: true })
  name!: string;

  @Field({ description: "Set by a platform admin: only then may the organisation's admins turn automatic CC on for its teams." })
  @Column({ type: 'boolean', default: false })
  autoCcAllowed!: boolean;

  @Column()
  createdAt!: Date;
}
