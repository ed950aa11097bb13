import { registerEnumType } from 'type-graphql';

export enum InboxAssignee {
  ME = 'ME',
  UNASSIGNED = 'UNASSIGNED',
  ANYONE = 'ANYONE',
}

registerEnumType(InboxAssignee, {
  name: 'InboxAssignee',
  description: "Which of a team inbox's threads to list, by assignee.",
  valuesConfig: {
    ME: { description: 'Assigned to the caller.' },
    UNASSIGNED: { description: 'Assigned to nobody.' },
    ANYONE: { description: 'Assigned or not.' },
  },
});
