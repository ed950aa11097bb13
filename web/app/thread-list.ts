import { h } from './dom';
import type { ThreadSummary } from './operations';

/** "My threads": newest activity first, each with its unread count; a click opens one. */
export class ThreadList {
  readonly element = h('ul', { class: 'threads', 'aria-label': 'My threads' });
  private threads: ThreadSummary[] = [];
  private selectedId: string | null = null;

  constructor(private readonly open: (threadId: string) => void) {
    this.render();
  }

  /** Replaces the list with the server's, which comes newest activity first. */
  replace(threads: ThreadSummary[]): void {
    this.threads = threads;
    this.render();
  }

  /** Updates a thread (adding it when new); `toTop` when it has new activity. */
  upsert(thread: ThreadSummary, toTop: boolean): void {
    const index = this.threads.findIndex((t) => t.id === thread.id);
    if (index >= 0 && !toTop) this.threads[index] = thread;
    else this.threads = [thread, ...this.threads.filter((t) => t.id !== thread.id)];
    this.render();
  }

  remove(threadId: string): void {
    this.threads = this.threads.filter((t) => t.id !== threadId);
    this.render();
  }

  select(threadId: string | null): void {
    this.selectedId = threadId;
    this.render();
  }

  private render(): void {
    // Re-rendering replaces the buttons: keep the keyboard focus on the same thread.
    const focusedId = this.element.contains(document.activeElement) ? document.activeElement?.closest('li')?.dataset.threadId : undefined;
    if (!this.threads.length) {
      this.element.replaceChildren(h('li', { class: 'empty' }, 'No threads yet.'));
      return;
    }
    this.element.replaceChildren(
      ...this.threads.map((thread) => {
        const unread = thread.unreadCount > 0;
        const button = h(
          'button',
          { type: 'button', class: unread ? 'thread unread' : 'thread', 'aria-current': thread.id === this.selectedId ? 'true' : false },
          h('span', { class: 'subject' }, thread.subject),
          unread && h('span', { class: 'badge' }, `${thread.unreadCount} unread`),
        );
        button.addEventListener('click', () => this.open(thread.id));
        return h('li', { 'data-thread-id': thread.id }, button);
      }),
    );
    if (focusedId) this.element.querySelector<HTMLElement>(`li[data-thread-id="${CSS.escape(focusedId)}"] button`)?.focus();
  }
}
