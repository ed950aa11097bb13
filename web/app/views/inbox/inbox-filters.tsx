import type { InboxAssignee, InboxStatus } from '../../../gql/graphql';

export interface Filters {
  status: InboxStatus;
  assignee: InboxAssignee;
}

const STATUSES: [InboxStatus, string][] = [
  ['OPEN', 'Open'],
  ['DONE', 'Done'],
];
const ASSIGNEES: [InboxAssignee, string][] = [
  ['ANYONE', 'Anyone'],
  ['ME', 'Mine'],
  ['UNASSIGNED', 'Unassigned'],
];

/** Which of the inbox's threads to list: two radio groups, each moved through with the arrow keys. */
export function InboxFilters({ filters, change }: { filters: Filters; change: (filters: Filters) => void }) {
  return (
    <div class="inbox-filters">
      <RadioGroup legend="Status" name="inbox-status" options={STATUSES} value={filters.status} pick={(status) => change({ ...filters, status })} />
      <RadioGroup legend="Assigned to" name="inbox-assignee" options={ASSIGNEES} value={filters.assignee} pick={(assignee) => change({ ...filters, assignee })} />
    </div>
  );
}

function RadioGroup<T extends string>({ legend, name, options, value, pick }: { legend: string; name: string; options: [T, string][]; value: T; pick: (value: T) => void }) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {options.map(([option, label]) => (
        <label key={option}>
          <input type="radio" name={name} value={option} checked={option === value} onChange={() => pick(option)} />
          {label}
        </label>
      ))}
    </fieldset>
  );
}
