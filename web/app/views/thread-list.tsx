import './thread-list.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useClient, useQuery } from '@urql/preact';
import { ThreadsDocument, type ThreadsQuery, type ThreadSummaryFragment } from '../../gql/graphql';
import { THREADS_VARIABLES } from '../cache';
import { explain } from '../errors';
import { formatTime } from '../format';
import { href } from '../route';
import { useLiveQuery, useSigned } from '../session';

const PREVIEW_LENGTH = 80;

// The cache keeps a thread where it first joined the list; sorting here is what moves it to the top on new
// activity. By the server's own order, which a staff note does not move (the live feed carries lastActivityAt).
const newestFirst = (a: ThreadSummaryFragment, b: ThreadSummaryFragment) => Date.parse(b.lastActivityAt) - Date.parse(a.lastActivityAt);

const threadsOf = (data: ThreadsQuery | undefined) => (data ? data.threads.edges.map((edge) => edge.node).sort(newestFirst) : []);

/** The caller's threads, newest activity first, each a link that opens it; older ones a page at a time. */
export function ThreadList({ selectedId }: { selectedId: string | null }) {
  const client = useClient();
  const heading = useRef<HTMLHeadingElement>(null);
  // The cursor of the oldest page loaded. The first page is the live query; the query of the oldest
  // page reads every page loaded, merged by the cache. A reconnection asks the first page again and
  // forgets the older ones (cache.ts), whose cursors were of the list as it was.
  const { reconnections } = useSigned();
  const [after, setAfter] = useState<string>();
  useEffect(() => setAfter(undefined), [reconnections]);
  const [latest] = useLiveQuery({ query: ThreadsDocument, variables: THREADS_VARIABLES });
  const [oldest] = useQuery({ query: ThreadsDocument, variables: { ...THREADS_VARIABLES, after }, pause: !after });
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState('');
  const [focusId, setFocusId] = useState<string>();
  const data = (after && oldest.data) || latest.data;
  const error = latest.error ?? oldest.error;
  const threads = threadsOf(data);
  const nextCursor = data?.threads.pageInfo.hasNextPage ? data.threads.pageInfo.endCursor : null;
  const list = useRef<HTMLUListElement>(null);

  // Once the thread to focus is listed; then forgotten, so that it takes the focus once.
  useEffect(() => {
    const link = focusId && list.current?.querySelector<HTMLAnchorElement>(`a[href="${href({ view: 'thread', id: focusId })}"]`);
    if (!link) return;
    link.focus();
    setFocusId(undefined);
  }, [focusId, data]);

  async function showOlder(cursor: string) {
    // Not disabled while loading: a disabled button would drop the keyboard focus.
    if (loadingOlder) return;
    setLoadingOlder(true);
    setOlderError('');
    const result = await client.query(ThreadsDocument, { ...THREADS_VARIABLES, after: cursor }).toPromise();
    setLoadingOlder(false);
    if (result.error) return setOlderError(explain(result.error));
    // The answer lists every page loaded: the focus goes to the first thread the new page adds.
    const shown = new Set(threads.map((thread) => thread.id));
    const added = threadsOf(result.data).find((thread) => !shown.has(thread.id));
    if (added) setFocusId(added.id);
    else heading.current?.focus();
    setAfter(cursor);
  }

  return (
    <section class="thread-list" aria-labelledby="thread-list-title">
      <h2 id="thread-list-title" ref={heading} tabIndex={-1}>
        My threads
      </h2>
      {error && (
        <p class="error" role="alert">
          {explain(error)}
        </p>
      )}
      {!data && !error && <p class="hint">Loading your threads…</p>}
      {data && threads.length === 0 && <p class="hint">No threads yet. Start one with New message.</p>}
      {threads.length > 0 && (
        <ul aria-label="My threads" ref={list}>
          {threads.map((thread) => (
            <ThreadItem key={thread.id} thread={thread} selected={thread.id === selectedId} />
          ))}
        </ul>
      )}
      <p class="error" role="alert">
        {olderError}
      </p>
      {nextCursor && (
        <button type="button" class="older" aria-busy={loadingOlder} onClick={() => showOlder(nextCursor)}>
          {loadingOlder ? 'Loading older threads…' : 'Show older threads'}
        </button>
      )}
    </section>
  );
}

function ThreadItem({ thread, selected }: { thread: ThreadSummaryFragment; selected: boolean }) {
  const { viewer } = useSigned();
  const patient = thread.participants.find((participant) => participant.user.kind === 'PATIENT' && participant.user.id !== viewer.id);
  const unread = thread.unreadCount > 0;
  // The time of the message previewed, a staff note included.
  const time = thread.lastMessage?.createdAt ?? thread.createdAt;
  return (
    <li>
      <a href={href({ view: 'thread', id: thread.id })} class={unread ? 'thread-link unread' : 'thread-link'} aria-current={selected ? 'true' : undefined}>
        <span class="subject">{thread.subject}</span>
        {unread && <span class="badge">{thread.unreadCount} unread</span>}
        {patient && <span class="about">Patient: {patient.user.name}</span>}
        {thread.teams.length > 0 && <span class="about">Team: {thread.teams.map((team) => team.name).join(', ')}</span>}
        <time dateTime={time}>{formatTime(time)}</time>
        {thread.lastMessage && <Preview message={thread.lastMessage} />}
      </a>
    </li>
  );
}

function Preview({ message }: { message: NonNullable<ThreadSummaryFragment['lastMessage']> }) {
  const text = message.body.trim().replace(/\s+/g, ' ');
  const files = message.attachments.length;
  const start = text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH)}…` : text || `${files} ${files === 1 ? 'file' : 'files'}`;
  return (
    <span class={message.staffOnly ? 'preview staff' : 'preview'}>
      {message.staffOnly && 'Staff note · '}
      {message.author.name}: {start}
    </span>
  );
}
