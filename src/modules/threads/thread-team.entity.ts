import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An auto-CC team picked as a recipient of a thread. */
@Entity('thread_teams')
export class ThreadTeam {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  threadId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  teamId!: string;

  @Column()
  addedAt!: Date;
}
