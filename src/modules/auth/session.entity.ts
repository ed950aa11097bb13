import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A sign-in through `login`, named by its token (`sid`); signing out deletes it, and a token whose session is gone is refused. Not in the API. */
@Entity('sessions')
@Index('IDX_sessions_user', ['userId', 'expiresAt'])
export class Session {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  @Column()
  createdAt!: Date;

  /** The token's `exp`: past it the session is only kept until its user's next sign-in clears it. */
  @Column()
  expiresAt!: Date;
}
