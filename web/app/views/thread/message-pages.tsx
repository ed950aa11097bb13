import './message-pages.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ThreadMessagesDocument, type MessagePageFragment } from '../../../gql/graphql';
import { THREAD_MESSAGES } from '../../cache';
import { explain } from '../../errors';
import { useLiveQuery } from '../../session';
import { MessageItem } from './message-item';

/** How far the pages after the first have come: all shown, one on its way, or one refused. */
type Progress = { state: 'done' } | { state: 'loading' } | { state: 'failed'; error: string; retry: () => void };

const DONE: Progress = { state: 'done' };
const LOADING: Progress = { state: 'loading' };

interface PageProps {
  threadId: string;
  viewerId: string;
  report: (progress: Progress) => void;
}

/**
 * Every message of the thread, oldest first: the first page (from the thread's own query), then
 * each later page asked in turn, while the messages already there stay readable.
 */
export function MessagePages({ threadId, viewerId, firstPage }: { threadId: string; viewerId: string; firstPage: MessagePageFragment }) {
  const [progress, setProgress] = useState<Progress>(DONE);
  const status = useRef<HTMLParagraphElement>(null);
  const complete = progress.state === 'done';
  // The Try again button goes as the page is asked again: the focus goes where it was, to the status.
  const retry = (again: () => void) => {
    again();
    status.current?.focus();
  };
  return (
    <>
      {/* Live only once every page shows: a screen reader would otherwise read out each later page as it arrives. */}
      <ol class="thread-messages" aria-label="Messages" aria-busy={!complete} aria-live={complete ? 'polite' : 'off'} aria-relevant="additions">
        <Page threadId={threadId} viewerId={viewerId} report={setProgress} page={firstPage} />
      </ol>
      <p class="hint later-messages" role="status" tabIndex={-1} ref={status}>
        {progress.state === 'loading' && 'Loading newer messages…'}
      </p>
      {progress.state === 'failed' && (
        <div class="later-messages-failed">
          <p class="error" role="alert">
            Newer messages could not be loaded: {progress.error}
          </p>
          <button type="button" onClick={() => retry(progress.retry)}>
            Try again
          </button>
        </div>
      )}
    </>
  );
}

/** A page's messages, then the page after it when there is one. The last page reports that all show. */
function Page({ page, ...props }: PageProps & { page: MessagePageFragment }) {
  const { hasNextPage, endCursor } = page.pageInfo;
  useEffect(() => {
    if (!hasNextPage) props.report(DONE);
  }, [hasNextPage]);
  return (
    <>
      {page.edges.map(({ node }) => (
        <MessageItem key={node.id} message={node} mine={node.author.id === props.viewerId} />
      ))}
      {hasNextPage && endCursor && <LaterPage {...props} after={endCursor} />}
    </>
  );
}

/** The page after `after`: nothing until it has come, then it and the pages after it. */
function LaterPage({ after, ...props }: PageProps & { after: string }) {
  // cache-and-network as for the first page: the read states of the newest messages are what change most.
  const [{ data, error, fetching }, reexecute] = useLiveQuery({
    query: ThreadMessagesDocument,
    variables: { id: props.threadId, first: THREAD_MESSAGES, after },
    requestPolicy: 'cache-and-network',
  });
  const page = data?.thread?.messages;
  useEffect(() => {
    if (page) return;
    if (error && !fetching) props.report({ state: 'failed', error: explain(error), retry: () => reexecute({ requestPolicy: 'network-only' }) });
    else props.report(LOADING);
  }, [page, error, fetching]);
  return page ? <Page {...props} page={page} /> : null;
}
