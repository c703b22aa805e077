/** How far one projection is behind `$all`. */
export interface ProjectionLag {
  /** Head position minus checkpoint: the events still to offer the projection. */
  events: bigint;
  /**
   * Age of the oldest event the projection has not applied yet (its recordedAt against now);
   * 0 when caught up. Unlike "time since last caught up", it does not grow on a projection that
   * is merely idle and does not reset when a busy one catches up for an instant.
   */
  seconds: number;
}

/**
 * Pure. `oldestUnappliedAt` is the recordedAt of the first event after the checkpoint, null
 * when there is none (caught up, or the head moved on from a position just read).
 */
export function projectionLag(
  checkpoint: bigint,
  head: bigint,
  oldestUnappliedAt: string | null,
  now: Date,
): ProjectionLag {
  const events = head > checkpoint ? head - checkpoint : 0n;
  if (events === 0n || oldestUnappliedAt === null) return { events, seconds: 0 };
  const ageMs = now.getTime() - Date.parse(oldestUnappliedAt);
  // A clock that went backwards (or another machine's) must not make lag negative.
  return { events, seconds: Number.isFinite(ageMs) ? Math.max(0, ageMs) / 1000 : 0 };
}
