import type {
  CheckpointedSchedule,
  PlannedBatch,
} from '../../src/process-manager/checkpointed-schedule.port';
import type { WorkItem, WorkKind } from '../../src/process-manager/work-queue.port';

export function work(
  transactionId: string,
  kind: WorkKind,
  dueAt: number,
  payload: Record<string, unknown> = {},
): WorkItem {
  return { transactionId, kind, dueAt, payload };
}

/**
 * Writes to a store's schedule as the planner does, each write one more one-event batch of
 * `$all`. Made afresh per test (in beforeEach), so positions start at 1 on every fresh store.
 */
export function scheduleWriter(store: CheckpointedSchedule) {
  let lastPosition = 0n;
  const nextBatch = (): PlannedBatch => {
    lastPosition += 1n;
    return { firstPosition: lastPosition, checkpoint: lastPosition };
  };
  return {
    nextBatch,
    schedule: (...items: WorkItem[]) => store.commit({ schedule: items, cancel: [] }, nextBatch()),
    cancel: (transactionId: string, ...kinds: WorkKind[]) =>
      store.commit({ schedule: [], cancel: [{ transactionId, kinds }] }, nextBatch()),
  };
}
