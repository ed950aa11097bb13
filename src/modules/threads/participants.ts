import type { ParticipantsChangedEvent } from '../../events/event-bus';
import type { Actor } from '../users/user.entity';

/** The live event of a participants change; `participantIds` are those after it. */
export function participantsChanged(
  threadId: string,
  actor: Actor,
  participantIds: string[],
  change: { addedIds?: string[]; removedIds?: string[]; created?: boolean; at: Date },
): ParticipantsChangedEvent {
  return {
    threadId,
    participantIds,
    addedIds: change.addedIds ?? [],
    removedIds: change.removedIds ?? [],
    actorId: actor.id,
    created: change.created ?? false,
    at: change.at.toISOString(),
  };
}

/** A new participation with nothing read yet (the history is unread for them); callers set addedById and viaTeamId. */
export function newParticipant(threadId: string, userId: string, joinedAt: Date) {
  return { threadId, userId, joinedAt, viaTeamId: null, lastReadAt: null, lastReadSeq: 0 };
}
