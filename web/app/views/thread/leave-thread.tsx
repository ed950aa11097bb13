import { useEffect, useRef, useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { LeaveThreadDocument } from '../../../gql/graphql';
import { explain } from '../../errors';

/** "Leave thread", asked twice: leaving cannot be undone by the one who leaves. */
export function LeaveThread({ threadId, leaving, left }: { threadId: string; leaving: (now: boolean) => void; left: () => void }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState('');
  const [, leave] = useMutation(LeaveThreadDocument);
  const start = useRef<HTMLButtonElement>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  const answered = useRef(false);
  useEffect(() => {
    if (asking) confirm.current?.focus();
    else if (answered.current) start.current?.focus();
  }, [asking]);

  async function yes() {
    setError('');
    leaving(true);
    const result = await leave({ threadId });
    if (!result.error) return left();
    leaving(false);
    setError(explain(result.error));
  }

  const cancel = () => {
    answered.current = true;
    setError('');
    setAsking(false);
  };

  if (!asking)
    return (
      <div class="leave">
        <button type="button" ref={start} onClick={() => setAsking(true)}>
          Leave thread
        </button>
      </div>
    );
  return (
    <div class="leave asking" role="group" aria-labelledby="leave-question">
      <p id="leave-question">Leave this thread? It goes from your list, and you see nothing more of it unless someone adds you again.</p>
      <button type="button" ref={confirm} class="danger" onClick={yes}>
        Yes, leave
      </button>
      <button type="button" onClick={cancel}>
        Cancel
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
