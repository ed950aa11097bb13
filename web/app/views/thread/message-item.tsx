import type { MessageFieldsFragment } from '../../../gql/graphql';
import { formatTime } from '../../format';
import { AttachmentList } from '../attachments';

/** Who has read one of the viewer's own messages. */
function readState(message: MessageFieldsFragment): string {
  if (message.readBy.length) return `Read by ${message.readBy.map((reader) => reader.name).join(', ')}`;
  // Only the author gets readByCareTeamAt, and without names: all a patient may learn of the professionals' reading.
  if (message.readByCareTeamAt) return 'Read by the care team';
  return 'Not read yet';
}

/** One message: author, time, the body as text, its files; a staff note marked as one; read state under the viewer's own. */
export function MessageItem({ message, mine }: { message: MessageFieldsFragment; mine: boolean }) {
  const classes = ['thread-message', mine && 'mine', message.staffOnly && 'staff'].filter(Boolean).join(' ');
  return (
    <li class={classes}>
      <p class="meta">
        <strong>{message.author.name}</strong> · <time dateTime={message.createdAt}>{formatTime(message.createdAt)}</time>
      </p>
      {message.staffOnly && <p class="staff-label">Staff note — not shown to the patient</p>}
      {message.body && <p class="body">{message.body}</p>}
      <AttachmentList attachments={message.attachments} />
      {mine && <p class="read-state">{readState(message)}</p>}
    </li>
  );
}
