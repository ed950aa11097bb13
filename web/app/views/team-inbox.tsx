import './team-inbox.css';
import { useRef, useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { TeamMembersDocument } from '../../gql/graphql';
import { explain } from '../errors';
import { useSigned } from '../session';
import { InboxFilters, type Filters } from './inbox/inbox-filters';
import { InboxPage } from './inbox/inbox-page';
import { useNow } from './inbox/use-now';

/** A team's inbox, for its members: the team's threads by how long the patient waits, and who handles each. */
export function TeamInbox({ teamId }: { teamId: string }) {
  const { viewer } = useSigned();
  const [filters, setFilters] = useState<Filters>({ status: 'OPEN', assignee: 'ANYONE' });
  const [pages, setPages] = useState(1);
  const [announcement, setAnnouncement] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const now = useNow();
  const [members] = useQuery({ query: TeamMembersDocument });
  const team = members.data?.teams.find((candidate) => candidate.id === teamId);
  const name = viewer.teams.find((candidate) => candidate.id === teamId)?.name ?? team?.name;
  const assignable = team?.contactableMembers ?? [];

  const filter = (next: Filters) => {
    setFilters(next);
    setPages(1);
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
      {members.error && (
        <p class="error" role="alert">
          {explain(members.error)}
        </p>
      )}
      <InboxPage
        list={{ teamId, ...filters }}
        more={pages - 1}
        showMore={() => setPages((count) => count + 1)}
        empty={emptyText(filters)}
        item={{ assignable, viewerId: viewer.id, now, announce: setAnnouncement, focusLost: () => heading.current?.focus() }}
      />
    </section>
  );
}

function emptyText({ status, assignee }: Filters): string {
  if (status === 'DONE') return 'No threads marked done here.';
  if (assignee === 'ME') return 'Nothing open is assigned to you.';
  if (assignee === 'UNASSIGNED') return 'Every open thread has someone.';
  return 'No open threads: nobody is waiting.';
}
