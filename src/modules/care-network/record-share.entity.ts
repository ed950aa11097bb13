import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A patient shared their record with a team: the patient and the team (and its members) may message each other. */
@Entity('team_shares')
@Index('IDX_team_shares_team', ['teamId'])
export class TeamShare {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  patientId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  teamId!: string;

  @Column()
  sharedAt!: Date;
}

/** A patient shared their record with one professional. */
@Entity('professional_shares')
@Index('IDX_professional_shares_professional', ['professionalId'])
export class ProfessionalShare {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  patientId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  professionalId!: string;

  @Column()
  sharedAt!: Date;
}
