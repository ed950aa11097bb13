import type { ParticipantFacts } from '../modules/threads/participants';
import type { Actor } from '../modules/users/user.entity';
import { TOPICS, type AnyBusEvent, type Events, type MessageData, type Topic } from './event-bus';

/** A member joined or left a team (teams module); the threads and the inbox follow. */
export interface TeamMemberEvent {
  teamId: string;
  userId: string;
  actor: Actor;
}

/**
 * What a transaction announces to the listeners of other modules (tx.emit):
 * the published events (Events, which also go to the outbox) and these, which
 * only run the in-transaction listeners.
 */
export interface TxEvents extends Events {
  /**
   * A message was stored (before its MESSAGE_ADDED), with its author and
   * whether it started the patient's wait (its numbering moved the wait
   * already: messages/next-message.ts), and the participants it reaches.
   */
  MESSAGE_STORED: { message: MessageData; author: Actor; waitStarted: boolean; participants: readonly ParticipantFacts[] };
  TEAM_MEMBER_ADDED: TeamMemberEvent;
  /** Emitted once the membership row is gone. */
  TEAM_MEMBER_REMOVED: TeamMemberEvent;
  /** A participant is about to leave a thread: emitted while they are still in it. */
  PARTICIPANT_LEAVING: { threadId: string; userId: string; actor: Actor };
  /** Auto-CC teams entered a thread's inbox. */
  THREAD_TEAMS_ADDED: { threadId: string };
  TEAM_WAITING_LIMIT_CHANGED: { teamId: string };
  /** An absence was cancelled: its professional may be present again. */
  ABSENCE_CANCELLED: { userId: string };
  USER_ENABLED: { userId: string };
}

export type TxTopic = keyof TxEvents;
export const MESSAGE_STORED = 'MESSAGE_STORED' satisfies TxTopic;
export const TEAM_MEMBER_ADDED = 'TEAM_MEMBER_ADDED' satisfies TxTopic;
export const TEAM_MEMBER_REMOVED = 'TEAM_MEMBER_REMOVED' satisfies TxTopic;
export const PARTICIPANT_LEAVING = 'PARTICIPANT_LEAVING' satisfies TxTopic;
export const THREAD_TEAMS_ADDED = 'THREAD_TEAMS_ADDED' satisfies TxTopic;
export const TEAM_WAITING_LIMIT_CHANGED = 'TEAM_WAITING_LIMIT_CHANGED' satisfies TxTopic;
export const ABSENCE_CANCELLED = 'ABSENCE_CANCELLED' satisfies TxTopic;
export const USER_ENABLED = 'USER_ENABLED' satisfies TxTopic;

/** The event as published when `topic` is one of the bus's topics; null for an event only the transaction hears. */
export function toBusEvent<K extends TxTopic>(id: string, topic: K, payload: TxEvents[K]): AnyBusEvent | null {
  return (TOPICS as TxTopic[]).includes(topic) ? ({ id, topic: topic as Topic, payload } as AnyBusEvent) : null;
}
