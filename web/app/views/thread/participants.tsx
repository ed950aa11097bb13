import type { ParticipantFieldsFragment } from '../../../gql/graphql';
import { formatTime } from '../../format';

const KIND = { PATIENT: 'patient', PROFESSIONAL: 'professional' } as const;

/** Who is in the thread, how they came in, and how far each has read. */
export function Participants({ participants, viewerId }: { participants: ParticipantFieldsFragment[]; viewerId: string }) {
  return (
    <details class="participants" open>
      <summary>People in this thread ({participants.length})</summary>
      <ul aria-label="People in this thread">
        {participants.map((participant) => (
          <li key={participant.id}>
            <strong>{participant.user.id === viewerId ? `${participant.user.name} (you)` : participant.user.name}</strong>, {KIND[participant.user.kind]}
            {participant.viaTeam && ` via ${participant.viaTeam.name}`}
            {' · '}
            {participant.lastReadAt ? `read up to ${formatTime(participant.lastReadAt)}` : 'has not read it yet'}
          </li>
        ))}
      </ul>
    </details>
  );
}
