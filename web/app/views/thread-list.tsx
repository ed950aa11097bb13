import './thread-list.css';
import { ThreadsDocument, type ThreadSummaryFragment } from '../../gql/graphql';
import { THREADS_VARIABLES } from '../cache';
import { explain } from '../errors';
import { formatTime } from '../format';
import { href } from '../route';
import { useLiveQuery, useSigned } from '../session';

const PREVIEW_LENGTH = 80;

const lastActivity = (thread: ThreadSummaryFragment) => thread.lastMessage?.createdAt ?? thread.createdAt;

// The cache keeps a thread where it first joined the list; sorting here is what moves it to the top on new activity.
const newestFirst = (a: ThreadSummaryFragment, b: ThreadSummaryFragment) => Date.parse(lastActivity(b)) - Date.parse(lastActivity(a));

/** The caller's threads, newest activity first, each a link that opens it. */
export function ThreadList({ selectedId }: { selectedId: string | null }) {
  const [{ data, error }] = useLiveQuery({ query: ThreadsDocument, variables: THREADS_VARIABLES });
  const threads = data ? data.threads.edges.map((edge) => edge.node).sort(newestFirst) : [];
  return (
    <section class="thread-list" aria-labelledby="thread-list-title">
      <h2 id="thread-list-title">My threads</h2>
      {error && (
        <p class="error" role="alert">
          {explain(error)}
        </p>
      )}
      {!data && !error && <p class="hint">Loading your threads…</p>}
      {data && threads.length === 0 && <p class="hint">No threads yet. Start one with New message.</p>}
      {threads.length > 0 && (
        <ul aria-label="My threads">
          {threads.map((thread) => (
            <ThreadItem key={thread.id} thread={thread} selected={thread.id === selectedId} />
          ))}
        </ul>
      )}
    </section>
  );
}

function ThreadItem({ thread, selected }: { thread: ThreadSummaryFragment; selected: boolean }) {
  const { viewer } = useSigned();
  const patient = thread.participants.find((participant) => participant.user.kind === 'PATIENT' && participant.user.id !== viewer.id);
  const unread = thread.unreadCount > 0;
  const time = lastActivity(thread);
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
