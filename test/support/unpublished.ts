import type { App } from '../../src/app';
import type { AnyBusEvent } from '../../src/events/event-bus';
import type { AuditedTx } from '../../src/modules/audit/audit-entry';

/**
 * Runs `work` in a unit of work as the server does, except that the events it
 * commits are not published (as if its instance died right after the commit):
 * the event is lost, or late if `publish` is called afterwards. Nothing else
 * may commit on `app` meanwhile.
 */
export async function commitUnpublished<T>(app: App, work: (tx: AuditedTx) => Promise<T>): Promise<{ value: T; events: AnyBusEvent[]; publish(): void }> {
  const events: AnyBusEvent[] = [];
  const publish = app.outbox.publish;
  app.outbox.publish = (committed) => void events.push(...committed);
  try {
    const value = await app.uow.run(work);
    return { value, events, publish: () => publish.call(app.outbox, events) };
  } finally {
    app.outbox.publish = publish;
  }
}
