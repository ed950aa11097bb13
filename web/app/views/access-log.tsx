import './access-log.css';
import type { Ref } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { MyAccessLogDocument, type MyAccessLogQuery } from '../../gql/graphql';
import { explain } from '../errors';
import { formatTime } from '../format';
import { href } from '../route';
import { useQuery } from '@urql/preact';

type Entry = MyAccessLogQuery['myAccessLog']['edges'][number]['node'];

/** What each kind of access means to a patient; `tried`: said of a refused attempt. */
const WORDING: Record<string, { done: string; tried?: string }> = {
  THREAD_READ: { done: 'read the thread', tried: 'tried to read the thread' },
  MESSAGE_DELIVERED: { done: 'received a message live' },
  ATTACHMENT_READ: { done: 'opened a file', tried: 'tried to open a file' },
  AUDIT_TRAIL_READ: { done: 'read the thread’s history', tried: 'tried to read the thread’s history' },
  NOTIFICATION_SENT: { done: 'was notified that a message waits' },
};

/** The entry's wording; an action the server may add later is readable as it is: "SOME_ACTION" → "some action". */
function wordingOf(entry: Entry): string {
  const { done, tried } = WORDING[entry.action] ?? { done: entry.action.toLowerCase().replace(/_/g, ' ') };
  return entry.outcome === 'DENIED' ? (tried ?? `tried: ${done}`) : done;
}

/**
 * "Who saw my messages": the patient's access log, newest first, a page at a time. Each page
 * is its own query (its cursor in its variables), so the cache keeps every page shown.
 */
export function AccessLog() {
  const [includeOwn, setIncludeOwn] = useState(false);
  const [pages, setPages] = useState<(string | null)[]>([null]);
  return (
    <section class="access-log" aria-labelledby="access-log-title">
      <h2 id="access-log-title">Who saw my messages</h2>
      <p class="hint">Everyone who read your threads, received your messages, opened your files or was notified, and anyone who tried and was refused. Newest first.</p>
      <div class="choice">
        <input
          id="access-log-own"
          type="checkbox"
          checked={includeOwn}
          onChange={(e) => {
            setIncludeOwn(e.currentTarget.checked);
            setPages([null]);
          }}
        />
        <label for="access-log-own">Include my own reads</label>
      </div>
      <ol class="access-entries" aria-labelledby="access-log-title">
        {pages.map((after, index) => (
          <AccessLogPage
            key={`${includeOwn}-${after}`}
            includeOwn={includeOwn}
            after={after}
            firstPage={index === 0}
            lastPage={index === pages.length - 1}
            more={(cursor) => setPages((shown) => (shown.includes(cursor) ? shown : [...shown, cursor]))}
          />
        ))}
      </ol>
    </section>
  );
}

interface PageProps {
  includeOwn: boolean;
  after: string | null;
  /** The first page says when there is nothing at all. */
  firstPage: boolean;
  /** Only the last page offers the next. */
  lastPage: boolean;
  more: (cursor: string) => void;
}

function AccessLogPage({ includeOwn, after, firstPage, lastPage, more }: PageProps) {
  const [{ data, error }] = useQuery({ query: MyAccessLogDocument, variables: { includeOwn, after }, requestPolicy: 'cache-and-network' });
  const firstEntry = useRef<HTMLLIElement>(null);
  const edges = data?.myAccessLog.edges;
  // A page asked for by "Show more" takes the focus to its first entry, where reading goes on.
  useEffect(() => {
    if (!firstPage) firstEntry.current?.focus();
  }, [Boolean(edges)]);

  if (!data) {
    return (
      <li>
        {error ? (
          <p class="error" role="alert">
            {explain(error)}
          </p>
        ) : (
          <p class="hint">Loading…</p>
        )}
      </li>
    );
  }
  const { pageInfo } = data.myAccessLog;
  const next = pageInfo.endCursor;
  return (
    <>
      {firstPage && !edges?.length && <li class="hint">Nobody has seen your messages yet.</li>}
      {edges?.map(({ cursor, node }, index) => (
        <AccessEntry key={cursor} entry={node} focusRef={index === 0 ? firstEntry : undefined} />
      ))}
      {lastPage && pageInfo.hasNextPage && next && (
        <li class="show-more">
          <button type="button" onClick={() => more(next)}>
            Show more
          </button>
        </li>
      )}
    </>
  );
}

/** One access; `focusRef`: the first entry of a page, which takes the focus when "Show more" brings it. */
function AccessEntry({ entry, focusRef }: { entry: Entry; focusRef?: Ref<HTMLLIElement> }) {
  const denied = entry.outcome === 'DENIED';
  return (
    <li class={denied ? 'access denied' : 'access'} ref={focusRef} tabindex={focusRef ? -1 : undefined}>
      <p class="what">
        <strong>{entry.who.name}</strong> {wordingOf(entry)}
      </p>
      <p class="meta">
        <time dateTime={entry.at}>{formatTime(entry.at)}</time>
        {entry.team && <span> · through {entry.team.name}</span>}
        {entry.role === 'ADMIN' && <span> · as an administrator</span>}
        {denied && <span class="refused"> · Refused: they saw nothing</span>}
      </p>
      {entry.threadId && <a href={href({ view: 'thread', id: entry.threadId })}>Open the thread</a>}
    </li>
  );
}
