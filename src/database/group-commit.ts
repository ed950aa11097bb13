/**
 * Gathers the items of many callers into one commit at a time: while one
 * batch commits, the next gathers, and goes as soon as the first is done. A
 * burst of small writes takes one turn of the database's writer instead of one
 * each. Each caller's promise settles with its batch's commit.
 */
export class GroupCommit<T> {
  private gathering: { items: T[]; settle: (error?: unknown) => void; done: Promise<void> } | null = null;
  private committing = false;

  constructor(private readonly commit: (items: T[]) => Promise<void>) {}

  add(items: T[]): Promise<void> {
    if (!this.gathering) {
      let settle!: (error?: unknown) => void;
      const done = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));
      this.gathering = { items: [], settle, done };
      // Callers of the same moment (this turn of the event loop) join before it goes.
      if (!this.committing) setImmediate(() => this.flush());
    }
    this.gathering.items.push(...items);
    return this.gathering.done;
  }

  private flush(): void {
    const batch = this.gathering;
    this.gathering = null;
    if (!batch) return;
    this.committing = true;
    this.commit(batch.items)
      .then(() => batch.settle(), (error: unknown) => batch.settle(error ?? new Error('the commit failed')))
      .finally(() => {
        this.committing = false;
        this.flush();
      });
  }
}
