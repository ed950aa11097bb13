import { explain } from './api';
import { AttachmentPicker, type Uploader } from './attachment-picker';
import { h } from './dom';
import type { RecipientInput, RecipientOption, TeamOption, UserOption } from './operations';

/** Starts a thread: subject, first message (blank only with files), recipient and uploaded files; resolves to the new thread's id. */
export type CreateThread = (subject: string, body: string, recipient: RecipientInput, attachmentIds: string[]) => Promise<string>;

/**
 * The new-thread form. The drop-down holds the server's `recipients` options
 * as they come: an auto-CC team is one option (with how many it reaches), never its members.
 */
export function composer(options: RecipientOption[], create: CreateThread, upload: Uploader, created: (threadId: string) => void): HTMLElement {
  const teams = options.filter((o): o is TeamOption => o.__typename === 'TeamRecipient');
  const people = options.filter((o): o is UserOption => o.__typename === 'UserRecipient');
  const recipient = h(
    'select',
    { id: 'new-recipient', name: 'recipient', required: true },
    h('option', { value: '' }, options.length ? 'Choose a recipient' : 'Nobody you can message yet'),
    teams.length > 0 && h('optgroup', { label: 'Teams' }, ...teams.map(teamOption)),
    people.length > 0 && h('optgroup', { label: 'People' }, ...people.map(personOption)),
  );
  const subject = h('input', { id: 'new-subject', name: 'subject', required: true, maxlength: '200' });
  const body = h('textarea', { id: 'new-body', name: 'body', rows: '5', required: true });
  const button = h('button', { type: 'submit' }, 'Send');
  const error = h('p', { class: 'error', role: 'alert' });
  let sending = false;
  // Send waits for the uploads; with files attached the message may be blank.
  const update = () => {
    button.disabled = sending || files.busy;
    body.required = files.ids.length === 0;
  };
  const files = new AttachmentPicker('new-files', upload, update);
  const form = h(
    'form',
    { class: 'composer', 'aria-labelledby': 'composer-title' },
    h('h2', { id: 'composer-title' }, 'New message'),
    h('label', { for: 'new-recipient' }, 'To'),
    recipient,
    h('label', { for: 'new-subject' }, 'Subject'),
    subject,
    h('label', { for: 'new-body' }, 'Message'),
    body,
    files.element,
    button,
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (sending || files.busy) return;
    const [kind, id] = recipient.value.split(':');
    sending = true;
    update();
    error.textContent = '';
    try {
      created(await create(subject.value, body.value, kind === 'team' ? { teamId: id } : { userId: id }, files.ids));
    } catch (failure) {
      error.textContent = explain(failure);
      sending = false;
      update();
    }
  });
  return form;
}

const teamOption = ({ team, reachCount }: TeamOption) =>
  h('option', { value: `team:${team.id}` }, `${team.name} (team: reaches ${reachCount} ${reachCount === 1 ? 'person' : 'people'})`);

const personOption = ({ user }: UserOption) => h('option', { value: `user:${user.id}` }, user.kind === 'PATIENT' ? `${user.name} (patient)` : user.name);
