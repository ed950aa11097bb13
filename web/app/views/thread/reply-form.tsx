import { useMemo, useRef, useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { SendMessageDocument } from '../../../gql/graphql';
import { explain } from '../../errors';
import { useSigned } from '../../session';
import { useAttachments } from '../attachments';

/**
 * Random hex rather than crypto.randomUUID, which browsers give only to secure contexts:
 * a clinic may serve the dashboard over plain HTTP on its own network.
 */
const newClientMessageId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');

/** The reply box: text, files, and for professionals the staff-note switch. */
export function ReplyForm({ threadId }: { threadId: string }) {
  const { viewer } = useSigned();
  const files = useAttachments();
  const [body, setBody] = useState('');
  const [staffOnly, setStaffOnly] = useState(false);
  const [error, setError] = useState('');
  const [{ fetching }, send] = useMutation(SendMessageDocument);
  const box = useRef<HTMLTextAreaElement>(null);
  // One id per draft: sending the same draft again after a failure cannot store it twice; any change makes a new draft.
  const clientMessageId = useMemo(newClientMessageId, [body, staffOnly, files.ids.join()]);

  async function submit(event: Event) {
    event.preventDefault();
    if (fetching || files.uploading) return;
    setError('');
    const result = await send({ threadId, body, clientMessageId, staffOnly, attachmentIds: files.ids });
    if (result.error) return setError(explain(result.error));
    setBody('');
    setStaffOnly(false);
    files.clear();
    box.current?.focus();
  }

  return (
    <form class="reply" onSubmit={submit}>
      <label for="reply-body">Reply</label>
      <textarea id="reply-body" ref={box} rows={3} value={body} onInput={(event) => setBody(event.currentTarget.value)} />
      {viewer.kind === 'PROFESSIONAL' && (
        <p class="staff-switch">
          <input id="reply-staff-only" type="checkbox" checked={staffOnly} onChange={(event) => setStaffOnly(event.currentTarget.checked)} />
          <label for="reply-staff-only">Staff note (not shown to the patient)</label>
        </p>
      )}
      {files.picker}
      <button type="submit" disabled={files.uploading} aria-describedby={files.uploading ? 'reply-uploading' : undefined}>
        Send reply
      </button>
      {files.uploading && (
        <p id="reply-uploading" class="hint">
          Send reply waits until the files have uploaded.
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
