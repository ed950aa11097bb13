import { useEffect, useRef } from 'preact/hooks';
import { TeamInboxDocument, type InboxAssignee, type InboxStatus } from '../../../gql/graphql';
import { explain } from '../../errors';
import { useLiveQuery } from '../../session';
import { InboxItem, type ItemContext } from './inbox-item';

/** Threads asked for at a time (the server refuses more than 100). */
const PAGE = 50;

interface Props {
  list: { teamId: string; status: InboxStatus; assignee: InboxAssignee };
  /** The end of the page before; none for the first page. */
  after?: string;
  /** How many pages to show after this one (the last page shown offers the next). */
  more: number;
  showMore: () => void;
  /** What the first page says when there is nothing to list. */
  empty: string;
  item: ItemContext;
}

/**
 * One page of a team's inbox, then the pages after it. Each page is asked for after the end of
 * the one before as it is now: a change asks every page again (cache.ts, refreshInbox), and
 * when a page's end moves, the next page follows it, so no thread falls between two pages.
 */
export function InboxPage({ list, after, more, showMore, empty, item }: Props) {
  const [{ data, error, fetching }, reexecute] = useLiveQuery({ query: TeamInboxDocument, variables: { ...list, first: PAGE, after } });
  const items = data?.teamInbox.edges.map((edge) => edge.node) ?? [];
  const next = data?.teamInbox.pageInfo.hasNextPage ? data.teamInbox.pageInfo.endCursor : null;
  const ul = useRef<HTMLUListElement>(null);
  // A page after the first is there because Show more was pressed: once in, its first thread has the focus.
  const focusOnLoad = useRef(!!after);
  useEffect(() => {
    if (!focusOnLoad.current || !data) return;
    focusOnLoad.current = false;
    const first = ul.current?.querySelector<HTMLElement>('.inbox-item');
    if (first) first.focus();
    else item.focusLost();
  }, [data]);

  return (
    <>
      {error && (
        <p class="error" role="alert">
          {explain(error)}
        </p>
      )}
      {after && error && !fetching && (
        <button type="button" class="more" onClick={() => reexecute({ requestPolicy: 'network-only' })}>
          Try again
        </button>
      )}
      {!data && fetching && <p class="hint">Loading…</p>}
      {data && !items.length && !after && <p class="hint">{empty}</p>}
      {items.length > 0 && (
        <ul ref={ul} class="inbox-items">
          {items.map((node) => (
            <InboxItem key={node.id} item={node} {...item} />
          ))}
        </ul>
      )}
      {next &&
        (more > 0 ? (
          <InboxPage list={list} after={next} more={more - 1} showMore={showMore} empty={empty} item={item} />
        ) : (
          <button type="button" class="more" onClick={showMore}>
            Show more
          </button>
        ))}
    </>
  );
}
