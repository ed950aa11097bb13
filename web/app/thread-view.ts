import { explain } from './api';
import { attachmentList, type DownloadLink } from './attachment-list';
import { AttachmentPicker, type Uploader } from './attachment-picker';
import { formatTime, h } from './dom';
import type { Message, ThreadDetail } from './operations';

/** Sends a reply with uploaded files; the same clientMessageId on a retry returns the stored message instead of a copy. */
export type SendReply = (body: string, clientMessageId: string, attachmentIds: string[]) => Promise<Message>;

/** What an open thread does through the server. */
export interface ThreadActions {
  send: SendReply;
  upload: Uploader;
  link: DownloadLink;
}

/** An open thread: who is in it, its messages oldest first (new ones announced), and a reply box. */
export class ThreadView {
  readonly element: HTMLElement;
  private readonly messages = h('ol', { class: 'messages', 'aria-live': 'polite', 'aria-label': 'Messages' });
  private readonly shown = new Set<string>();

  constructor(
    thread: ThreadDetail,
    private readonly myId: string,
    private readonly actions: ThreadActions,
  ) {
    const others = thread.participants.filter((p) => p.user.id !== myId);
    this.element = h(
      'section',
      { class: 'thread-view', 'aria-labelledby': 'thread-subject' },
      h('h2', { id: 'thread-subject' }, thread.subject),
      h('p', { class: 'participants' }, 'With ', others.length ? others.map(describeParticipant).join(', ') : 'nobody else'),
      this.messages,
      replyForm(actions, (message) => this.add(message)),
    );
  }

  /** Shows a message once, however often it arrives (the reply's answer, then the live feed). */
  add(message: Message): void {
    if (this.shown.has(message.id)) return;
    this.shown.add(message.id);
    const item = h(
      'li',
      { class: message.author.id === this.myId ? 'message mine' : 'message' },
      h(
        'p',
        { class: 'meta' },
        h('strong', {}, message.author.name),
        ' · ',
        h('time', { datetime: message.createdAt }, formatTime(message.createdAt)),
        message.staffOnly && h('span', { class: 'staff-only' }, ' · staff note'),
      ),
      message.body && h('p', { class: 'body' }, message.body),
      message.attachments.length > 0 && attachmentList(message.attachments, this.actions.link),
    );
    this.messages.append(item);
    item.scrollIntoView({ block: 'nearest' });
  }
}

const describeParticipant = (p: ThreadDetail['participants'][number]) => (p.viaTeam ? `${p.user.name} (${p.viaTeam.name})` : p.user.name);

function replyForm({ send, upload }: ThreadActions, sent: (message: Message) => void): HTMLFormElement {
  const body = h('textarea', { id: 'reply-body', name: 'body', rows: '3', required: true });
  const button = h('button', { type: 'submit' }, 'Send reply');
  const error = h('p', { class: 'error', role: 'alert' });
  // One id per draft: a retry of the same text and files after a failure cannot store it twice; editing starts a new draft.
  let clientMessageId = newClientMessageId();
  let sending = false;
  // Send waits for the uploads; with files attached the reply may be blank.
  const files = new AttachmentPicker('reply-files', upload, () => {
    clientMessageId = newClientMessageId();
    update();
  });
  const update = () => {
    button.disabled = sending || files.busy;
    body.required = files.ids.length === 0;
  };
  const form = h('form', { class: 'reply' }, h('label', { for: 'reply-body' }, 'Reply'), body, files.element, button, error);
  body.addEventListener('input', () => (clientMessageId = newClientMessageId()));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (sending || files.busy) return;
    sending = true;
    update();
    error.textContent = '';
    try {
      sent(await send(body.value, clientMessageId, files.ids));
      body.value = '';
      // Which also starts the next draft.
      files.clear();
    } catch (failure) {
      error.textContent = explain(failure);
    } finally {
      sending = false;
      update();
    }
  });
  return form;
}

/** Random hex: crypto.randomUUID exists only in secure contexts, and clinics may serve this over plain HTTP. */
function newClientMessageId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
