// The reference dashboard at /app: sign in, my threads, an open thread, a new-thread composer,
// all kept current by one threadActivity subscription; and the notification settings.
import './dashboard.css';
import type { Client } from 'graphql-ws';
import { ApiError, explain, liveClient, request, upload, type Upload } from './api';
import { composer } from './composer';
import { h } from './dom';
import { notificationSettings } from './notification-settings';
import {
  ATTACHMENT_LINK,
  CREATE_THREAD,
  MARK_READ,
  ME,
  NOTIFICATION_SETTINGS,
  RECIPIENTS,
  REGISTER_PUSH_SUBSCRIPTION,
  REMOVE_PUSH_SUBSCRIPTION,
  SEND,
  SIGN_OUT,
  THREAD,
  THREAD_ACTIVITY,
  THREADS,
  UPDATE_NOTIFICATION_SETTINGS,
  type AttachmentLinkResult,
  type CreateThreadResult,
  type MarkReadResult,
  type MeResult,
  type Message,
  type NotificationSettingsResult,
  type RecipientInput,
  type RecipientsResult,
  type RegisterPushSubscriptionResult,
  type RemovePushSubscriptionResult,
  type SendResult,
  type ThreadActivity,
  type ThreadDetail,
  type ThreadResult,
  type ThreadsResult,
  type UpdateNotificationSettingsResult,
} from './operations';
import { clearSession, loadSession, saveSession, type Session } from './session';
import { signInForm } from './sign-in';
import { ThreadList } from './thread-list';
import { ThreadView } from './thread-view';

const root = document.getElementById('app')!;
const SESSION_ENDED = 'Your session has ended. Sign in again.';

function showSignIn(notice?: string): void {
  root.replaceChildren(
    signInForm((session) => {
      saveSession(session);
      new Dashboard(session);
    }, notice),
  );
}

class Dashboard {
  private readonly live: Client;
  private readonly list = new ThreadList((id) => void this.open(id));
  private readonly listError = h('p', { class: 'error', role: 'alert' });
  private readonly status = h('p', { class: 'live-status', role: 'status' }, 'Connecting to live updates…');
  private readonly pane = h('div', { class: 'pane' }, h('p', { class: 'hint' }, 'Choose a thread, or start a new message.'));
  private ended = false;
  /** Bumped whenever the pane changes: a load that finishes after a later change drops its result. */
  private paneVersion = 0;
  /** The thread shown in the pane (also while it loads); null for the composer or nothing. */
  private openId: string | null = null;
  private view: ThreadView | null = null;
  /** Live messages of the open thread that arrived while it loaded. */
  private early: Message[] = [];
  /** Activity that arrived while the list loaded, applied over the list the server returns. */
  private queued: ThreadActivity[] | null = null;

  constructor(private readonly session: Session) {
    const signOut = h('button', { type: 'button' }, 'Sign out');
    signOut.addEventListener('click', () => {
      // The server ends the session, so a copy of the token is refused too; the tab signs out whatever it answers.
      request(SIGN_OUT, {}, session.token).catch(() => undefined);
      this.end();
    });
    const compose = h('button', { type: 'button', class: 'compose' }, 'New message');
    compose.addEventListener('click', () => void this.compose());
    const settings = h('button', { type: 'button' }, 'Notifications');
    settings.addEventListener('click', () => void this.showNotificationSettings());
    root.replaceChildren(
      h('header', {}, h('h1', {}, 'CareThread'), h('p', {}, 'Signed in as ', h('strong', {}, session.user.name)), settings, signOut),
      h('nav', { 'aria-labelledby': 'threads-title' }, compose, h('h2', { id: 'threads-title' }, 'My threads'), this.listError, this.list.element, this.status),
      this.pane,
    );
    this.live = liveClient(session.token, {
      connected: (wasRetry) => {
        this.status.textContent = 'Live updates on.';
        // Nothing was pushed while the connection was down: fetch what changed.
        if (wasRetry) void this.catchUp();
      },
      disconnected: () => {
        if (!this.ended) this.status.textContent = 'Live updates lost. Reconnecting…';
      },
      refused: () => this.end(SESSION_ENDED),
    });
    this.live.subscribe<{ threadActivity: ThreadActivity }>(
      { query: THREAD_ACTIVITY },
      {
        next: ({ data }) => {
          if (data) this.apply(data.threadActivity);
        },
        error: () => {
          if (!this.ended) this.status.textContent = 'Live updates stopped. Reload the page.';
        },
        complete: () => undefined,
      },
    );
    void this.loadThreads();
  }

  /** Signs out: closes the live connection, forgets the token, and shows the sign-in form. */
  private end(notice?: string): void {
    if (this.ended) return;
    this.ended = true;
    void this.live.dispose();
    clearSession();
    showSignIn(notice);
  }

  /** One operation as the signed-in user; an UNAUTHENTICATED answer ends the session. */
  private async call<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    try {
      return await request<T>(query, variables, this.session.token);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') this.end(SESSION_ENDED);
      throw error;
    }
  }

  /** Uploads a file as the signed-in user; an UNAUTHENTICATED answer ends the session. */
  private readonly upload = (file: File, progress: (sent: number, total: number) => void): Upload => {
    const started = upload(file, this.session.token, progress);
    started.done.catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') this.end(SESSION_ENDED);
    });
    return started;
  };

  /** A fresh download link for an attachment. */
  private readonly link = async (id: string): Promise<string> => (await this.call<AttachmentLinkResult>(ATTACHMENT_LINK, { id })).attachmentLink.url;

  private async loadThreads(): Promise<void> {
    const queue: ThreadActivity[] = [];
    this.queued = queue;
    try {
      const { threads } = await this.call<ThreadsResult>(THREADS);
      this.list.replace(threads.edges.map((edge) => edge.node));
      this.listError.textContent = '';
    } catch (error) {
      this.listError.textContent = explain(error);
    }
    // A later load (after a reconnection) keeps queueing for itself.
    if (this.queued === queue) this.queued = null;
    queue.forEach((activity) => this.applyToList(activity));
  }

  private async catchUp(): Promise<void> {
    await this.loadThreads();
    const { openId, view } = this;
    if (!openId || !view) return;
    const loaded = await this.fetchThread(openId).catch(() => null);
    if (loaded && this.view === view) loaded.messages.forEach((message) => view.add(message));
  }

  private apply(activity: ThreadActivity): void {
    const { kind, threadId, message } = activity;
    if (threadId === this.openId) {
      if (kind === 'LEFT_THREAD' || kind === 'REMOVED_FROM_THREAD') this.closePane('You are no longer in this thread.');
      else if (kind === 'MESSAGE_ADDED' && message) {
        if (this.view) this.view.add(message);
        else this.early.push(message);
        // The thread is on screen, so its new message is read.
        if (message.author.id !== this.session.user.id) void this.markRead(threadId);
      }
    }
    if (this.queued) this.queued.push(activity);
    else this.applyToList(activity);
  }

  private applyToList({ kind, threadId, thread, message }: ThreadActivity): void {
    if (kind === 'LEFT_THREAD' || kind === 'REMOVED_FROM_THREAD' || !thread) this.list.remove(threadId);
    // Staff notes do not count as the thread's activity on the server either.
    else this.list.upsert(thread, kind === 'ADDED_TO_THREAD' || (kind === 'MESSAGE_ADDED' && !message?.staffOnly));
  }

  /** The thread with all its messages, oldest first; null when the caller cannot see it. */
  private async fetchThread(id: string): Promise<{ detail: ThreadDetail; messages: Message[] } | null> {
    const messages: Message[] = [];
    let after: string | null = null;
    let detail: ThreadDetail;
    do {
      const { thread }: ThreadResult = await this.call<ThreadResult>(THREAD, { id, after });
      if (!thread) return null;
      detail = thread;
      messages.push(...thread.messages.edges.map((edge) => edge.node));
      after = thread.messages.pageInfo.hasNextPage ? thread.messages.pageInfo.endCursor : null;
    } while (after);
    return { detail, messages };
  }

  private async open(id: string): Promise<void> {
    const version = ++this.paneVersion;
    this.openId = id;
    this.view = null;
    this.early = [];
    this.list.select(id);
    this.pane.replaceChildren(h('p', { class: 'hint' }, 'Loading…'));
    let loaded: Awaited<ReturnType<Dashboard['fetchThread']>>;
    try {
      loaded = await this.fetchThread(id);
    } catch (error) {
      if (version === this.paneVersion) this.closePane(explain(error));
      return;
    }
    if (version !== this.paneVersion) return;
    if (!loaded) {
      this.list.remove(id);
      this.closePane('This thread is not available to you any more.');
      return;
    }
    const view = new ThreadView(loaded.detail, this.session.user.id, {
      send: async (body, clientMessageId, attachmentIds) => (await this.call<SendResult>(SEND, { threadId: id, body, clientMessageId, attachmentIds })).sendMessage,
      upload: this.upload,
      link: this.link,
    });
    [...loaded.messages, ...this.early].forEach((message) => view.add(message));
    this.early = [];
    this.view = view;
    this.pane.replaceChildren(view.element);
    await this.markRead(id);
  }

  private async markRead(id: string): Promise<void> {
    try {
      const { markThreadRead } = await this.call<MarkReadResult>(MARK_READ, { id });
      this.list.upsert(markThreadRead, false);
    } catch {
      // The thread stays unread in the list; the next open or message tries again.
    }
  }

  private closePane(text: string): void {
    this.paneVersion++;
    this.openId = null;
    this.view = null;
    this.list.select(null);
    this.pane.replaceChildren(h('p', { class: 'hint' }, text));
  }

  private async compose(): Promise<void> {
    this.closePane('Loading recipients…');
    const version = this.paneVersion;
    let options: RecipientsResult['recipients'];
    try {
      ({ recipients: options } = await this.call<RecipientsResult>(RECIPIENTS));
    } catch (error) {
      if (version === this.paneVersion) this.closePane(explain(error));
      return;
    }
    if (version !== this.paneVersion) return;
    const create = async (subject: string, body: string, recipient: RecipientInput, attachmentIds: string[]) => {
      const { createThread } = await this.call<CreateThreadResult>(CREATE_THREAD, { subject, body, recipients: [recipient], attachmentIds });
      return createThread.id;
    };
    this.pane.replaceChildren(composer(options, create, this.upload, (id) => void this.open(id)));
  }

  private async showNotificationSettings(): Promise<void> {
    this.closePane('Loading notification settings…');
    const version = this.paneVersion;
    let loaded: NotificationSettingsResult;
    try {
      loaded = await this.call<NotificationSettingsResult>(NOTIFICATION_SETTINGS);
    } catch (error) {
      if (version === this.paneVersion) this.closePane(explain(error));
      return;
    }
    if (version !== this.paneVersion) return;
    const view = notificationSettings(loaded.notificationSettings, loaded.pushPublicKey, {
      save: async (input) => (await this.call<UpdateNotificationSettingsResult>(UPDATE_NOTIFICATION_SETTINGS, { input })).updateNotificationSettings,
      registerDevice: async (subscription) =>
        (await this.call<RegisterPushSubscriptionResult>(REGISTER_PUSH_SUBSCRIPTION, { subscription })).registerPushSubscription,
      removeDevice: async (endpoint) => (await this.call<RemovePushSubscriptionResult>(REMOVE_PUSH_SUBSCRIPTION, { endpoint })).removePushSubscription,
    });
    this.pane.replaceChildren(view);
    view.querySelector('h2')?.focus();
  }
}

async function start(): Promise<void> {
  const session = loadSession();
  if (!session) return showSignIn();
  try {
    // The stored token may have expired, or the account been disabled, since it was saved.
    const { me } = await request<MeResult>(ME, {}, session.token);
    new Dashboard({ token: session.token, user: me });
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
      clearSession();
      showSignIn(SESSION_ENDED);
    } else new Dashboard(session);
  }
}

void start();
