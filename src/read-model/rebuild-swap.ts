import type { RebuildSwap } from '../transactions/read-model.port';

/**
 * Pure: swap the rebuilt copy in only if its checkpoint is at or past the live one, so that the
 * live projection, resuming from the rebuilt checkpoint, skips no event. A copy without a
 * checkpoint has applied nothing and never swaps.
 */
export function swapDecision(
  liveCheckpoint: bigint | null,
  rebuildCheckpoint: bigint | null,
): RebuildSwap {
  if (rebuildCheckpoint === null || (liveCheckpoint ?? 0n) > rebuildCheckpoint) {
    return { swapped: false, rebuildCheckpoint, liveCheckpoint };
  }
  return { swapped: true, checkpoint: rebuildCheckpoint };
}
