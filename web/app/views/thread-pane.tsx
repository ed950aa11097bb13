import './thread-pane.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useMutation } from '@urql/preact';
import { MarkThreadReadDocument, ThreadDocument } from '../../gql/graphql';
import { THREAD_MESSAGES } from '../cache';
import { codeOf, explain } from '../errors';
import { href } from '../route';
import { useLiveQuery, useSigned } from '../session';
import { LeaveThread } from './thread/leave-thread';
import { MessagePages } from './thread/message-pages';
import { Participants } from './thread/participants';
import { ReplyForm } from './thread/reply-form';

/** An open thread: who is in it, all its messages oldest first, the reply box, and leaving. */
export function ThreadPane({ id }: { id: string }) {
  const { viewer } = useSigned();
  const [leaving, setLeaving] = useState(false);
  const [left, setLeft] = useState(false);
  // Paused while leaving: the leave takes the thread out of the cache, which would show as not available before it shows as left.
  const [{ data, error }] = useLiveQuery({ query: ThreadDocument, variables: { id, first: THREAD_MESSAGES }, pause: leaving, requestPolicy: 'cache-and-network' });
  const thread = left ? null : data?.thread;
  useMarkRead(id, thread ? thread.unreadCount : null);
  const heading = useRef<HTMLHeadingElement>(null);
  const shown = Boolean(thread);
  useEffect(() => {
    if (shown) heading.current?.focus();
  }, [shown]);

  if (left) return <Notice text="You left this thread." />;
  const gone = error && codeOf(error) === 'NOT_FOUND';
  if (gone || (data && !data.thread)) return <Notice text="This thread is not available to you any more." />;
  if (!thread)
    return (
      <section class="thread-pane" aria-label="Thread">
        <BackLink />
        {error ? (
          <p class="error" role="alert">
            {explain(error)}
          </p>
        ) : (
          <p class="hint">Loading the thread…</p>
        )}
      </section>
    );
  return (
    <section class="thread-pane" aria-labelledby="thread-title">
      <BackLink />
      <h2 id="thread-title" tabIndex={-1} ref={heading}>
        {thread.subject}
      </h2>
      {error && (
        <p class="error" role="alert">
          {explain(error)}
        </p>
      )}
      <Participants participants={thread.participants} viewerId={viewer.id} creatorId={thread.createdBy.id} />
      <MessagePages threadId={id} viewerId={viewer.id} firstPage={thread.messages} />
      <ReplyForm threadId={id} />
      <LeaveThread threadId={id} leaving={setLeaving} left={() => setLeft(true)} />
    </section>
  );
}

/** Marks the thread read once it shows, and again whenever a message by someone else arrives while it is open. */
function useMarkRead(threadId: string, unreadCount: number | null): void {
  const [, markRead] = useMutation(MarkThreadReadDocument);
  const marked = useRef(false);
  useEffect(() => {
    if (unreadCount === null || (marked.current && unreadCount === 0)) return;
    marked.current = true;
    void markRead({ threadId });
  }, [unreadCount]);
}

const BackLink = () => (
  <a class="back" href={href({ view: 'threads' })}>
    Back to my threads
  </a>
);

/** Why no thread shows, focused: the controls the keyboard was on may just have gone. */
function Notice({ text }: { text: string }) {
  const notice = useRef<HTMLParagraphElement>(null);
  useEffect(() => notice.current?.focus(), []);
  return (
    <section class="thread-pane" aria-label="Thread">
      <BackLink />
      <p class="notice" tabIndex={-1} ref={notice}>
        {text}
      </p>
    </section>
  );
}
