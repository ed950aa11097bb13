import './escalation-alerts.css';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useQuery, useSubscription } from '@urql/preact';
import { ListedThreadDocument, ThreadActivityDocument, type ThreadActivitySubscription } from '../../gql/graphql';
import { href } from '../route';
import { useSigned } from '../session';

interface Escalation {
  key: string;
  threadId: string;
  teamId: string;
}

/** Keeps the feed's ESCALATED events that name a thread the viewer can still see: the latest one per thread and team. */
function collect(escalations: Escalation[] = [], { threadActivity: activity }: ThreadActivitySubscription): Escalation[] {
  if (activity.kind !== 'ESCALATED' || !activity.teamId || !activity.thread) return escalations;
  const { teamId, threadId, at } = activity;
  const others = escalations.filter((escalation) => escalation.teamId !== teamId || escalation.threadId !== threadId);
  return [...others, { key: `${teamId} ${threadId} ${at}`, teamId, threadId }];
}

/**
 * The alerts that a patient waits too long in one of the viewer's teams, until dismissed. It reads
 * the shell's live feed: the same document and variables, so urql shares the one subscription.
 */
export function EscalationAlerts() {
  const { viewer } = useSigned();
  const [{ data: escalations = [] }] = useSubscription({ query: ThreadActivityDocument }, collect);
  const [dismissed, setDismissed] = useState<ReadonlySet<string>>(new Set());
  const [focusAt, setFocusAt] = useState<number | null>(null);
  const list = useRef<HTMLUListElement>(null);
  const shown = escalations.filter((escalation) => !dismissed.has(escalation.key));

  // After a dismissal the focus goes to the next alert's Dismiss button, or to the view when none is left.
  useLayoutEffect(() => {
    if (focusAt === null) return;
    setFocusAt(null);
    const buttons = list.current?.querySelectorAll('button') ?? [];
    const next = buttons[Math.min(focusAt, buttons.length - 1)];
    if (next) return next.focus();
    document.querySelector('main')?.focus();
  }, [focusAt]);

  const dismiss = (key: string, index: number) => {
    setDismissed((before) => new Set(before).add(key));
    setFocusAt(index);
  };

  return (
    // aria-atomic false: a new alert is read out alone, not with the ones already shown.
    <div class="escalations" role="alert" aria-atomic="false">
      {shown.length > 0 && (
        <ul ref={list}>
          {shown.map((escalation, index) => {
            const team = viewer.teams.find((candidate) => candidate.id === escalation.teamId);
            const limit = team?.waitingLimitMinutes;
            return (
              <li key={escalation.key}>
                <p>
                  {limit ? `A patient has waited over ${limit} min` : 'A patient has waited too long'} in {team?.name ?? 'your team'}:{' '}
                  <ThreadLink threadId={escalation.threadId} />
                </p>
                <button type="button" onClick={() => dismiss(escalation.key, index)}>
                  Dismiss
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/** A link to the thread by its subject: from the cache when the list has it, else asked for (the feed carries no subject). */
function ThreadLink({ threadId }: { threadId: string }) {
  const [{ data }] = useQuery({ query: ListedThreadDocument, variables: { id: threadId } });
  return <a href={href({ view: 'thread', id: threadId })}>{data?.thread?.subject ?? 'Open the thread'}</a>;
}
