import { explain } from './api';
import { formatTime, h } from './dom';
import type { Message, ThreadDetail } from './operations';

/** Sends a reply; the same clientMessageId on a retry returns the stored message instead of a copy. */
export type SendReply = (body: string, clientMessageId: string) => Promise<Message>;

/** An open thread: who is in it, its messages oldest first (new ones announced), and a reply box. */
export class ThreadView {
  readonly element: HTMLElement;
  private readonly messages = h('ol', { class: 'messages', 'aria-live': 'polite', 'aria-label': 'Messages' });
  private readonly shown = new Set<string>();

  constructor(
    thread: ThreadDetail,
    private readonly myId: string,
    send: SendReply,
  ) {
    const others = thread.participants.filter((p) => p.user.id !== myId);
    this.element = h(
      'section',
      { class: 'thread-view', 'aria-labelledby': 'thread-subject' },
      h('h2', { id: 'thread-subject' }, thread.subject),
      h('p', { class: 'participants' }, 'With ', others.length ? others.map(describeParticipant).join(', ') : 'nobody else'),
      this.messages,
      replyForm(send, (message) => this.add(message)),
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
      h('p', { class: 'body' }, message.body),
    );
    this.messages.append(item);
    item.scrollIntoView({ block: 'nearest' });
  }
}

const describeParticipant = (p: ThreadDetail['participants'][number]) => (p.viaTeam ? `${p.user.name} (${p.viaTeam.name})` : p.user.name);

function replyForm(send: SendReply, sent: (message: Message) => void): HTMLFormElement {
  const body = h('textarea', { id: 'reply-body', name: 'body', rows: '3', required: true });
  const button = h('button', { type: 'submit' }, 'Send reply');
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'reply' }, h('label', { for: 'reply-body' }, 'Reply'), body, button, error);
  // One id per draft: a retry of the same text after a failure cannot store it twice; editing starts a new draft.
  let clientMessageId = newClientMessageId();
  body.addEventListener('input', () => (clientMessageId = newClientMessageId()));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = '';
    try {
      sent(await send(body.value, clientMessageId));
      body.value = '';
      clientMessageId = newClientMessageId();
    } catch (failure) {
      error.textContent = explain(failure);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** Random hex: crypto.randomUUID exists only in secure contexts, and clinics may serve this over plain HTTP. */
function newClientMessageId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
