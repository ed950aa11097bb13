import type { MessageAddedEvent } from '../../events/event-bus';
import type { ParticipantFacts } from '../threads/participants';
import type { User } from '../users/user.entity';

/** What a send read before its commit that its live delivery needs again. */
export interface SentHere {
  /** The author, as the send's request read them. */
  author: User;
  /** The participants read with the thread locked: exactly the recipients, with kind, admin flag and team. */
  participants: readonly ParticipantFacts[];
}

/**
 * By the event a send published, on the instance that sent it: the delivery
 * (its execution, its audit) reads none of it a second time. An event from
 * another instance, or one read back to fill a gap, has nothing here. Held
 * weakly: gone with the event.
 */
const byEvent = new WeakMap<MessageAddedEvent, SentHere>();

export function rememberSend(event: MessageAddedEvent, sent: SentHere): MessageAddedEvent {
  byEvent.set(event, sent);
  return event;
}

export const sentHere = (event: MessageAddedEvent): SentHere | undefined => byEvent.get(event);
