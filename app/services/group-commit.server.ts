/**
 * Group commit: callers each submit one item and wait for it to be durable;
 * items that arrive while a commit is in flight ride together in the next
 * one. At low load an item commits alone and at once; under load one
 * transaction (one fsync) carries hundreds, so throughput holds without a
 * timer adding latency.
 */
export interface GroupCommitOptions {
  /** Most items one commit carries. */
  maxBatch: number;
  /** Commits in flight at once (each holds a pooled connection). */
  maxConcurrent: number;
  /**
   * Items that must be waiting before a commit starts beside one already in flight (default 1). Under load
   * this keeps batches large (each commit has a fixed cost) while a lone item still commits at once.
   */
  overlapAt?: number;
}

interface Pending<Item, Outcome> {
  item: Item;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

export class GroupCommitter<Item, Outcome> {
  private pending: Pending<Item, Outcome>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Commits a batch; answers one outcome per item, in order. */
    private readonly commit: (items: Item[]) => Promise<Outcome[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(item: Item): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting for a commit slot (for metrics). */
  get backlog() {
    return this.pending.length;
  }

  private ready() {
    if (this.pending.length === 0 || this.inFlight >= this.options.maxConcurrent) return false;
    return this.inFlight === 0 || this.pending.length >= (this.options.overlapAt ?? 1);
  }

  private schedule() {
    if (this.scheduled || !this.ready()) return;
    this.scheduled = true;
    // One turn of the event loop lets requests parsed in the same tick join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.startCommit();
    });
  }

  private startCommit() {
    if (!this.ready()) return;
    const batch = this.pending.splice(0, this.options.maxBatch);
    this.inFlight++;
    this.commit(batch.map((entry) => entry.item))
      .then(
        (outcomes) => batch.forEach((entry, index) => entry.resolve(outcomes[index]!)),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => {
        this.inFlight--;
        this.schedule();
      });
    this.schedule();
  }
}
