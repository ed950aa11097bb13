import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Message } from '../messages/message.entity';

export enum ThreadActivityKind {
  ADDED_TO_THREAD = 'ADDED_TO_THREAD',
  PARTICIPANTS_CHANGED = 'PARTICIPANTS_CHANGED',
  MESSAGE_ADDED = 'MESSAGE_ADDED',
  LEFT_THREAD = 'LEFT_THREAD',
  REMOVED_FROM_THREAD = 'REMOVED_FROM_THREAD',
  INBOX_CHANGED = 'INBOX_CHANGED',
  ESCALATED = 'ESCALATED',
}

registerEnumType(ThreadActivityKind, {
  name: 'ThreadActivityKind',
  description: 'What happened to one of the caller\'s threads.',
  valuesConfig: {
    ADDED_TO_THREAD: { description: 'Someone added the caller: a new thread for their inbox (also when they are a recipient of a new thread).' },
    PARTICIPANTS_CHANGED: { description: 'Someone else was added to, left or was removed from a thread the caller is in (the caller may be the one who added them).' },
    MESSAGE_ADDED: { description: 'A thread the caller is in got a message (the caller may be its author).' },
    LEFT_THREAD: { description: 'The caller left the thread: drop it from the inbox. Nothing more of it follows unless someone adds them again.' },
    REMOVED_FROM_THREAD: {
      description:
        'Someone else removed the caller (e.g. took them off the team they were in the thread through): drop it from the inbox. Nothing more of it follows unless someone adds them again.',
    },
    INBOX_CHANGED: { description: "A team's handling of the thread changed (claimed, assigned, unassigned, done, reopened); teamId names the team. Members of the team only." },
    ESCALATED: {
      description: "A patient's message in the thread has waited longer than the team's limit: the alert, sent once per wait to the team's members in the thread.",
    },
  },
});

/** One event of the caller's dashboard feed; `thread` is resolved when asked for. */
@ObjectType({ description: "Something that changed one of the caller's threads, for an inbox that updates without polling." })
export class ThreadActivity {
  @Field(() => ThreadActivityKind)
  kind!: ThreadActivityKind;

  @Field(() => ID)
  threadId!: string;

  @Field(() => Message, { nullable: true, description: 'The new message, for MESSAGE_ADDED; null otherwise.' })
  message!: Message | null;

  @Field(() => ID, { nullable: true, description: 'The team whose inbox changed, for INBOX_CHANGED and ESCALATED; null otherwise.' })
  teamId!: string | null;

  @Field({ description: 'When the change was committed.' })
  at!: Date;
}
