/**
 * Gathers the items of many callers into one commit: callers of the same
 * moment (one turn of the event loop) share a batch, and a batch goes at once
 * unless `inFlight` batches are committing, in which case it gathers until
 * one of them is done. A burst of small writes takes one transaction instead
 * of one each. Each caller's promise settles with its batch's commit.
 */
export class GroupCommit<T> {
  private gathering: { items: T[]; settle: (error?: unknown) => void; done: Promise<void> } | null = null;
  private committing = 0;

  /** `inFlight`: how many batches may commit at once (1 where the database has a single writer). */
  constructor(
    private readonly commit: (items: T[]) => Promise<void>,
    private readonly inFlight = 1,
  ) {}

  add(items: T[]): Promise<void> {
    if (!this.gathering) {
      let settle!: (error?: unknown) => void;
      const done = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));
      this.gathering = { items: [], settle, done };
      if (this.committing < this.inFlight) setImmediate(() => this.flush());
    }
    this.gathering.items.push(...items);
    return this.gathering.done;
  }

  private flush(): void {
    const batch = this.gathering;
    if (!batch || this.committing >= this.inFlight) return;
    this.gathering = null;
    this.committing++;
    this.commit(batch.items)
      .then(() => batch.settle(), (error: unknown) => batch.settle(error ?? new Error('the commit failed')))
      .finally(() => {
        this.committing--;
        this.flush();
      });
  }
}
