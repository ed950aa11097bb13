import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { derivedId } from '../../common/ids';
import type { Team } from '../teams/team.entity';
import type { Thread } from './thread.entity';

export enum InboxStatus {
  OPEN = 'OPEN',
  DONE = 'DONE',
}

registerEnumType(InboxStatus, {
  name: 'InboxStatus',
  valuesConfig: {
    OPEN: { description: 'Someone in the team still has to deal with it.' },
    DONE: { description: 'A member marked it done; a new message from the patient reopens it.' },
  },
});

/**
 * An auto-CC team picked as a recipient of a thread: the thread's place in
 * that team's inbox, with the team's own status and assignee.
 */
@ObjectType('TeamInboxItem', {
  description: "A thread in a team's inbox, as the team's members see it. Never shown to patients.",
})
@Entity('thread_teams')
@Index('IDX_thread_teams_team', ['teamId', 'status'])
export class ThreadTeam {
  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 36 })
  threadId!: string;

  @Field(() => ID)
  @PrimaryColumn({ type: 'varchar', length: 36 })
  teamId!: string;

  @Field(() => ID, { description: 'The same for the same thread and team, in every query and live payload.' })
  get id(): string {
    return derivedId('TeamInboxItem', this.threadId, this.teamId);
  }

  @Field({ description: "When the thread entered the team's inbox." })
  @Column()
  addedAt!: Date;

  @Field(() => InboxStatus)
  @Column({ type: 'varchar', length: 8, default: InboxStatus.OPEN })
  status!: InboxStatus;

  /** A member of the team who is a participant; cleared when they leave the thread or the team. */
  @Column({ type: 'varchar', length: 36, nullable: true })
  assigneeId!: string | null;

  @Field(() => Date, { nullable: true })
  @Column({ type: Date, nullable: true })
  assignedAt!: Date | null;

  @Field(() => Date, { nullable: true })
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
  @Field(() => Date, { nullable: true, description: "When the team's members will be alerted that the patient waits too long; null when no alert is due." })
  @Index('IDX_thread_teams_escalation_due')
  @Column({ type: Date, nullable: true })
  escalationDueAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "When the team's members were last alerted that the patient waited too long." })
  @Column({ type: Date, nullable: true })
  escalatedAt!: Date | null;

  /**
   * The wait (its waitingSince) that the last alert was about: each wait is
   * escalated once. Compared for equality with the thread's waitingSince, so
   * no two clocks (the scheduler's, a message's) are ever compared.
   */
  @Column({ type: Date, nullable: true })
  escalatedWaitingSince!: Date | null;

  /** Joined by queries that need it (innerJoinAndMapOne); not a column. */
  thread?: Thread;
  team?: Team;
}
