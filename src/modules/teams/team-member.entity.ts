import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('team_members')
@Index('IDX_team_members_user', ['userId'])
export class TeamMember {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  teamId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  userId!: string;

  @Column()
  addedAt!: Date;
}
