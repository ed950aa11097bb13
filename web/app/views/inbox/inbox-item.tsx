import { useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useClient } from '@urql/preact';
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import {
  AssignThreadDocument,
  ClaimThreadDocument,
  MarkThreadDoneDocument,
  ReopenThreadDocument,
  UnassignThreadDocument,
  type TeamInboxQuery,
  type TeamMembersQuery,
} from '../../../gql/graphql';
import { explain } from '../../errors';
import { formatWait } from '../../format';
import { href } from '../../route';

type Item = TeamInboxQuery['teamInbox']['edges'][number]['node'];
type Member = TeamMembersQuery['teams'][number]['contactableMembers'][number];

/** What every item of an inbox shares. */
export interface ItemContext {
  /** Who the thread may be assigned to: the team's contactable professionals. */
  assignable: Member[];
  viewerId: string;
  now: number;
  /** Says what an action did, once it succeeded. */
  announce: (what: string) => void;
  /** Called when the item leaves the list while it holds the focus (e.g. marked done under Open). */
  focusLost: () => void;
}

interface Props extends ItemContext {
  item: Item;
}

/** One thread of the inbox: who waits and how long, who has it, and what a member can do with it. */
export function InboxItem({ item, assignable, viewerId, now, announce, focusLost }: Props) {
  const client = useClient();
  const article = useRef<HTMLElement>(null);
  const titleId = useId();
  const selectId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [chosen, setChosen] = useState<string>();
  const subject = item.thread.subject;
  const patient = item.thread.participants.find((participant) => participant.user.kind === 'PATIENT')?.user.name;
  const ids = { teamId: item.teamId, threadId: item.threadId };

  useLayoutEffect(
    () => () => {
      if (article.current?.contains(document.activeElement)) focusLost();
    },
    [],
  );

  async function act<Variables extends AnyVariables>(document: TypedDocumentNode<unknown, Variables>, variables: Variables, done: string) {
    // Not disabled while busy: a disabled button would drop the keyboard focus.
    if (busy) return;
    setBusy(true);
    setError('');
    const { error: failed } = await client.mutation(document, variables).toPromise();
    setBusy(false);
    if (failed) return setError(explain(failed));
    announce(done);
    article.current?.focus();
  }

  // The members arrive after the inbox may: until one is picked, the viewer (or the first member) is.
  const selected = chosen ?? (assignable.some((member) => member.id === viewerId) ? viewerId : (assignable[0]?.id ?? ''));
  const selectedName = assignable.find((member) => member.id === selected)?.name ?? '';
  const open = item.status === 'OPEN';
  return (
    <li>
      <article ref={article} class="inbox-item" tabIndex={-1} aria-labelledby={titleId} aria-busy={busy}>
        <h3 id={titleId}>
          <a href={href({ view: 'thread', id: item.threadId })}>{subject}</a>
        </h3>
        <p class="facts">
          {patient && <span>Patient: {patient}</span>}
          {item.waitingSince && <span>waiting {formatWait(item.waitingSince, now)}</span>}
          {item.escalatedAt && <span class="escalated">Escalated</span>}
          <span>{item.assignee ? `Assigned to ${item.assignee.name}` : 'Unassigned'}</span>
          {!open && item.doneBy && <span>Done by {item.doneBy.name}</span>}
          {item.thread.unreadCount > 0 && <span class="badge">{item.thread.unreadCount} unread</span>}
        </p>
        {open ? (
          <div class="inbox-actions">
            {item.assignee ? (
              <button type="button" onClick={() => act(UnassignThreadDocument, ids, `Unassigned “${subject}”.`)}>
                Unassign
              </button>
            ) : (
              <button type="button" onClick={() => act(ClaimThreadDocument, ids, `You claimed “${subject}”.`)}>
                Claim
              </button>
            )}
            {assignable.length > 0 && (
              <span class="assign">
                <label for={selectId}>Assign to</label>
                <select id={selectId} value={selected} onChange={(event) => setChosen(event.currentTarget.value)}>
                  {assignable.map((member) => (
                    <option key={member.id} value={member.id}>
                      {member.name}
                    </option>
                  ))}
                </select>
                <button type="button" onClick={() => act(AssignThreadDocument, { ...ids, userId: selected }, `Assigned “${subject}” to ${selectedName}.`)}>
                  Assign
                </button>
              </span>
            )}
            <button type="button" onClick={() => act(MarkThreadDoneDocument, ids, `Marked “${subject}” done.`)}>
              Done
            </button>
          </div>
        ) : (
          <div class="inbox-actions">
            <button type="button" onClick={() => act(ReopenThreadDocument, ids, `Reopened “${subject}”.`)}>
              Reopen
            </button>
          </div>
        )}
        <p class="error" role="alert">
          {error}
        </p>
      </article>
    </li>
  );
}
