import type { ParticipantFieldsFragment } from '../../../gql/graphql';
import { formatTime } from '../../format';

const KIND = { PATIENT: 'patient', PROFESSIONAL: 'professional' } as const;

/** How far someone has read; the one who started the thread wrote its first message, whether or not they opened it since. */
function readState(participant: ParticipantFieldsFragment, creatorId: string): string {
  if (participant.lastReadAt) return `read up to ${formatTime(participant.lastReadAt)}`;
  return participant.user.id === creatorId ? 'started the thread' : 'has not read it yet';
}

/** Who is in the thread, how they came in, and how far each has read. */
export function Participants({ participants, viewerId, creatorId }: { participants: ParticipantFieldsFragment[]; viewerId: string; creatorId: string }) {
  return (
    <details class="participants" open>
      <summary>People in this thread ({participants.length})</summary>
      <ul aria-label="People in this thread">
        {participants.map((participant) => (
          <li key={participant.id}>
            <strong>{participant.user.id === viewerId ? `${participant.user.name} (you)` : participant.user.name}</strong>, {KIND[participant.user.kind]}
            {participant.viaTeam && ` via ${participant.viaTeam.name}`}
            {' · '}
            {readState(participant, creatorId)}
          </li>
        ))}
      </ul>
    </details>
  );
}
