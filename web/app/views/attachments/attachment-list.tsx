import { useRef, useState } from 'preact/hooks';
import { useClient } from '@urql/preact';
import { AttachmentLinkDocument, type AttachmentFieldsFragment } from '../../../gql/graphql';
import { codeOf, explain } from '../../errors';
import { formatSize } from '../../format';
import { Preview } from './preview';
import './attachments.css';

/** A message's files, in the order sent: each with its preview, name, size and a Download button. Nothing for a message without any. */
export function AttachmentList({ attachments }: { attachments: AttachmentFieldsFragment[] }) {
  if (!attachments.length) return null;
  return (
    <ul class="attachments" aria-label="Attachments">
      {attachments.map((attachment) => (
        <AttachmentItem key={attachment.id} attachment={attachment} />
      ))}
    </ul>
  );
}

function AttachmentItem({ attachment }: { attachment: AttachmentFieldsFragment }) {
  const client = useClient();
  const [error, setError] = useState('');
  const pending = useRef(false);

  async function download() {
    // Not disabled while it waits, which would drop the keyboard focus.
    if (pending.current) return;
    pending.current = true;
    setError('');
    // The link is valid for minutes only, so it is asked for at each click, never from the cache.
    const result = await client.query(AttachmentLinkDocument, { id: attachment.id }, { requestPolicy: 'network-only' }).toPromise();
    pending.current = false;
    if (!result.data) {
      setError(result.error && codeOf(result.error) === 'NOT_FOUND' ? 'This file is not available to you any more.' : explain(result.error));
      return;
    }
    // An <a download> clicked: the page stays, and the server's Content-Disposition makes it a
    // file whatever the browser thinks of the type.
    const anchor = document.createElement('a');
    anchor.href = result.data.attachmentLink.url;
    anchor.download = attachment.name;
    anchor.hidden = true;
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
  }

  return (
    <li class="attachment">
      <Preview attachment={attachment} alt={attachment.name} box={160} />
      <span class="file">
        <span class="name">{attachment.name}</span>
        <span class="size">{formatSize(attachment.size)}</span>
      </span>
      {/* The visible word first in the name, for speech input; the file's name tells the buttons apart. */}
      <button type="button" aria-label={`Download ${attachment.name}`} onClick={download}>
        Download
      </button>
      <span class="error" role="alert">
        {error}
      </span>
    </li>
  );
}
