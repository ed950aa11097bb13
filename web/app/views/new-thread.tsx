// The new-thread form: recipients from the combobox, a subject, the first message and its files.
import './new-thread.css';
import { useRef, useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { CreateThreadDocument, type RecipientChoiceFragment, type RecipientInput } from '../../gql/graphql';
import { explain } from '../errors';
import { navigate } from '../route';
import { useAttachments } from './attachments';
import { RecipientCombobox } from './recipient-combobox';

const asInput = (choice: RecipientChoiceFragment): RecipientInput =>
  choice.__typename === 'TeamRecipient' ? { teamId: choice.team.id } : { userId: choice.user.id };

export function NewThread() {
  const [picked, setPicked] = useState<RecipientChoiceFragment[]>([]);
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [problem, setProblem] = useState('');
  const [error, setError] = useState('');
  const files = useAttachments();
  const [{ fetching }, createThread] = useMutation(CreateThreadDocument);
  const to = useRef<HTMLInputElement>(null);

  async function send(event: Event) {
    event.preventDefault();
    if (fetching || files.uploading) return;
    if (!picked.length) {
      setProblem('Choose at least one recipient: type a name and pick from the list.');
      to.current?.focus();
      return;
    }
    setError('');
    const result = await createThread({ subject, body, recipients: picked.map(asInput), attachmentIds: files.ids });
    // The form keeps everything typed and picked, to correct and send again.
    if (!result.data) {
      setError(explain(result.error));
      return;
    }
    files.clear();
    navigate({ view: 'thread', id: result.data.createThread.id });
  }

  return (
    // noValidate: the server's own message says what is wrong with a field.
    <form class="composer" aria-labelledby="composer-title" noValidate onSubmit={send}>
      <h2 id="composer-title">New message</h2>
      <RecipientCombobox
        id="new-recipient"
        label="To"
        picked={picked}
        pick={(choice) => {
          setPicked((all) => [...all, choice]);
          setProblem('');
        }}
        remove={(choice) => setPicked((all) => all.filter((other) => other.id !== choice.id))}
        problem={problem}
        inputRef={to}
      />
      <label for="new-subject">Subject</label>
      <input id="new-subject" name="subject" required maxLength={200} value={subject} onInput={(event) => setSubject(event.currentTarget.value)} />
      <label for="new-body">Message</label>
      <textarea
        id="new-body"
        name="body"
        rows={5}
        // With files attached the message may be blank.
        required={files.ids.length === 0}
        value={body}
        onInput={(event) => setBody(event.currentTarget.value)}
      />
      {files.picker}
      <button type="submit" disabled={files.uploading}>
        Send
      </button>
      <p class="error" role="alert">
        {error}
      </p>
    </form>
  );
}
