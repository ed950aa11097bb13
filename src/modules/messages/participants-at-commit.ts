import type { MessageAddedEvent } from '../../events/event-bus';
import type { ParticipantFacts } from '../threads/participants';

/**
 * The participants a send read with its thread locked (exactly its
 * recipients, with kind, admin flag and team), by the event it published, on
 * the instance that sent it: the audit of its live delivery reads them no
 * second time. An event from another instance, or one read back to fill a
 * gap, has none here. Held weakly: gone with the event.
 */
const byEvent = new WeakMap<MessageAddedEvent, readonly ParticipantFacts[]>();

export function rememberParticipants(event: MessageAddedEvent, participants: readonly ParticipantFacts[]): MessageAddedEvent {
  byEvent.set(event, participants);
  return event;
}

export const participantsAtCommit = (event: MessageAddedEvent): readonly ParticipantFacts[] | undefined => byEvent.get(event);
