import './team-inbox.css';
import { useRef, useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { TeamInboxDocument, TeamMembersDocument } from '../../gql/graphql';
import { explain } from '../errors';
import { useLiveQuery, useSigned } from '../session';
import { InboxFilters, type Filters } from './inbox/inbox-filters';
import { InboxItem } from './inbox/inbox-item';
import { useNow } from './inbox/use-now';

const PAGE = 50;

/** A team's inbox, for its members: the team's threads by how long the patient waits, and who handles each. */
export function TeamInbox({ teamId }: { teamId: string }) {
  const { viewer } = useSigned();
  const [filters, setFilters] = useState<Filters>({ status: 'OPEN', assignee: 'ANYONE' });
  const [first, setFirst] = useState(PAGE);
  const [announcement, setAnnouncement] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const now = useNow();
  const [{ data, error, fetching }] = useLiveQuery({ query: TeamInboxDocument, variables: { teamId, ...filters, first } });
  const [members] = useQuery({ query: TeamMembersDocument });
  const team = members.data?.teams.find((candidate) => candidate.id === teamId);
  const name = viewer.teams.find((candidate) => candidate.id === teamId)?.name ?? team?.name;
  const assignable = team?.members.filter((member) => member.kind === 'PROFESSIONAL' && member.contactable) ?? [];
  const items = data?.teamInbox.edges.map((edge) => edge.node) ?? [];

  const filter = (next: Filters) => {
    setFilters(next);
    setFirst(PAGE);
    setAnnouncement('');
  };

  return (
    <section class="team-inbox" aria-labelledby="team-inbox-title">
      <h2 id="team-inbox-title" ref={heading} tabIndex={-1}>
        {name ? `${name} inbox` : 'Team inbox'}
      </h2>
      <InboxFilters filters={filters} change={filter} />
      <p class="inbox-announcement" role="status">
        {announcement}
      </p>
      {error && (
        <p class="error" role="alert">
          {explain(error)}
        </p>
      )}
      {members.error && (
        <p class="error" role="alert">
          {explain(members.error)}
        </p>
      )}
      {!data && fetching && <p class="hint">Loading…</p>}
      {data && !items.length && <p class="hint">{emptyText(filters)}</p>}
      {items.length > 0 && (
        <ul class="inbox-items">
          {items.map((item) => (
            <InboxItem key={item.id} item={item} assignable={assignable} viewerId={viewer.id} now={now} announce={setAnnouncement} focusLost={() => heading.current?.focus()} />
          ))}
        </ul>
      )}
      {data?.teamInbox.pageInfo.hasNextPage && (
        <button type="button" class="more" onClick={() => setFirst((count) => count + PAGE)}>
          Show more
        </button>
      )}
    </section>
  );
}

function emptyText({ status, assignee }: Filters): string {
  if (status === 'DONE') return 'No threads marked done here.';
  if (assignee === 'ME') return 'Nothing open is assigned to you.';
  if (assignee === 'UNASSIGNED') return 'Every open thread has someone.';
  return 'No open threads: nobody is waiting.';
}
