import './absences.css';
import { useRef, useState } from 'preact/hooks';
import { useMutation, useQuery } from '@urql/preact';
import { CancelAbsenceDocument, MyAbsencesDocument, RecordAbsenceDocument, type AbsenceFieldsFragment } from '../../gql/graphql';
import { explain } from '../errors';
import { formatTime } from '../format';
import { FormOutcome } from './form-outcome';

/** A datetime-local value ("2026-12-10T09:00", the browser's zone) as an ISO instant, or null when empty or incomplete. */
function toIso(local: string): string | null {
  const at = new Date(local);
  return local && !Number.isNaN(at.getTime()) ? at.toISOString() : null;
}

/** "Absences": when the viewer is away, their current and upcoming absences, and recording or cancelling one. */
export function Absences() {
  const [{ data, error }] = useQuery({ query: MyAbsencesDocument, requestPolicy: 'cache-and-network' });
  const listHeading = useRef<HTMLHeadingElement>(null);
  const me = data?.me;
  return (
    <section class="absences" aria-labelledby="absences-title">
      <h2 id="absences-title">Absences</h2>
      <p class="away" role="status">
        {me && (me.awayUntil ? `You are away until ${formatTime(me.awayUntil)}.` : 'You are not away now.')}
      </p>
      <RecordAbsence />
      <h3 id="absence-list-title" ref={listHeading} tabindex={-1}>
        Your absences
      </h3>
      {error && !me ? (
        <p class="error" role="alert">
          {explain(error)}
        </p>
      ) : !me ? (
        <p class="hint">Loading absences…</p>
      ) : me.absences?.length ? (
        <ul class="absence-list" aria-labelledby="absence-list-title">
          {me.absences.map((absence) => (
            <AbsenceItem key={absence.id} absence={absence} cancelled={() => listHeading.current?.focus()} />
          ))}
        </ul>
      ) : (
        <p class="hint">No current or upcoming absences.</p>
      )}
    </section>
  );
}

function RecordAbsence() {
  const [startsAt, setStartsAt] = useState('');
  const [endsAt, setEndsAt] = useState('');
  const [reason, setReason] = useState('');
  const [saved, setSaved] = useState('');
  const [problem, setProblem] = useState('');
  const [{ fetching }, record] = useMutation(RecordAbsenceDocument);

  async function submit(event: Event) {
    event.preventDefault();
    // Not disabled while saving: a disabled button would drop the keyboard's focus.
    if (fetching) return;
    setSaved('');
    setProblem('');
    const starts = toIso(startsAt);
    const ends = toIso(endsAt);
    if (!starts || !ends) return setProblem('Give the date and time the absence starts and ends.');
    const result = await record({ startsAt: starts, endsAt: ends, reason: reason.trim() || null });
    if (result.error) return setProblem(explain(result.error));
    setStartsAt('');
    setEndsAt('');
    setReason('');
    setSaved('Absence recorded.');
  }

  // No browser validation: the server says what is wrong with a range (an end before the start, or in the past).
  return (
    <form class="record-absence" aria-labelledby="record-absence-title" noValidate onSubmit={submit}>
      <h3 id="record-absence-title">Record an absence</h3>
      <p class="hint">While you are away, patients are not told to expect a reply from you.</p>
      <label for="absence-starts">Starts</label>
      <input id="absence-starts" name="startsAt" type="datetime-local" value={startsAt} onInput={(e) => setStartsAt(e.currentTarget.value)} />
      <label for="absence-ends">Ends</label>
      <input id="absence-ends" name="endsAt" type="datetime-local" value={endsAt} onInput={(e) => setEndsAt(e.currentTarget.value)} />
      <label for="absence-reason">Reason (optional, shown to staff only)</label>
      <input id="absence-reason" name="reason" maxLength={200} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      <button type="submit">
        Record absence
      </button>
      <FormOutcome done={saved} problem={problem} />
    </form>
  );
}

function AbsenceItem({ absence, cancelled }: { absence: AbsenceFieldsFragment; cancelled: () => void }) {
  const [{ fetching }, cancel] = useMutation(CancelAbsenceDocument);
  const [problem, setProblem] = useState('');
  const describedBy = `absence-${absence.id}`;

  async function cancelIt() {
    if (fetching) return;
    setProblem('');
    const result = await cancel({ id: absence.id });
    // Once cancelled, the item and its button go: focus moves to the list's heading.
    if (result.error) setProblem(explain(result.error));
    else cancelled();
  }

  return (
    <li class="absence">
      <p id={describedBy}>
        From <strong>{formatTime(absence.startsAt)}</strong> to <strong>{formatTime(absence.endsAt)}</strong>
        {absence.reason && <span class="reason">: {absence.reason}</span>}
      </p>
      <button type="button" aria-describedby={describedBy} onClick={cancelIt}>
        Cancel
      </button>
      <p class="error" role="alert">
        {problem}
      </p>
    </li>
  );
}
