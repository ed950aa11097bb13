import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export enum InboxStatus {
  OPEN = 'OPEN',
  DONE = 'DONE',
}

/**
 * An auto-CC team picked as a recipient of a thread: the thread's place in
 * that team's inbox, with the team's own status and assignee.
 */
@Entity('thread_teams')
@Index('IDX_thread_teams_team', ['teamId', 'status'])
export class ThreadTeam {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  threadId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36 })
  teamId!: string;

  @Column()
  addedAt!: Date;

  @Column({ type: 'varchar', length: 8, default: InboxStatus.OPEN })
  status!: InboxStatus;

  /** A member of the team who is a participant; cleared when they leave the thread or the team. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  assigneeId!: string | null;

  @Column({ type: Date, nullable: true })
  assignedAt!: Date | null;

  @Column({ type: Date, nullable: true })
  doneAt!: Date | null;

  @Column({ type: 'varchar', length: 36, nullable: true })
  doneById!: string | null;

  /**
   * When the members are to be alerted that the patient waits too long: the
   * durable schedule every instance polls. Null when nothing is due (nobody
   * waits, the thread is done, the team has no limit, or the alert for this
   * wait was sent).
   */
  @Index('IDX_thread_teams_escalation_due')
  @Column({ type: Date, nullable: true })
  escalationDueAt!: Date | null;

  /** The last alert; an alert after the wait began means this wait was already escalated. */
  @Column({ type: Date, nullable: true })
  escalatedAt!: Date | null;
}
