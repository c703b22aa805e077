import type { WorkItem, WorkKind } from './work-queue.port';

/**
 * The planner's output: changes to the work queue, stored together with the process manager's
 * checkpoint in `$all`, so that a crash neither loses a plan nor applies an event twice.
 */

/** Changes decided for one batch of `$all` events, stored with the checkpoint. */
export interface ScheduleChange {
  /** Upserts by (transactionId, kind): a new plan replaces the old one. */
  schedule: WorkItem[];
  /** Removes all work of these kinds for the transaction. */
  cancel: { transactionId: string; kinds: WorkKind[] }[];
}

/** The batch a planner commit covers: it applies the events from firstPosition to checkpoint. */
export interface PlannedBatch {
  firstPosition: bigint;
  checkpoint: bigint;
}

/**
 * A commit for events the store has already applied: another planner got there first (its lease
 * was taken over while this one stalled). Nothing was written; the caller must stand down.
 */
export class StaleCheckpointError extends Error {
  constructor(
    readonly stored: bigint,
    readonly firstPosition: bigint,
  ) {
    super(
      `the work store's checkpoint is at ${stored}, past the batch starting at ${firstPosition}: ` +
        'another planner applied these events',
    );
    this.name = 'StaleCheckpointError';
  }
}

export abstract class CheckpointedSchedule {
  /** Position of the last `$all` event the process manager applied, null if never. */
  abstract checkpoint(): Promise<bigint | null>;

  /**
   * Atomic: the schedule changes and the checkpoint land together. Rejects with
   * StaleCheckpointError, writing nothing, when the stored checkpoint is already at or past
   * `batch.firstPosition`, so that no event is ever applied twice even if two planners overlap.
   */
  abstract commit(change: ScheduleChange, batch: PlannedBatch): Promise<void>;
}
