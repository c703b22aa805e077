import type { EventStore, PositionUnit } from '../event-store/event-store.port';

/** How far one projection is behind `$all`. */
export interface ProjectionLag {
  /**
   * Head of `$all` minus the checkpoint, in `unit`: events still to offer the projection on the
   * embedded store, bytes of log still to read on EventStoreDB (its positions are log offsets, so
   * a difference of positions counts no events there).
   */
  behind: number;
  unit: PositionUnit;
  /**
   * Age of the oldest event the projection has not applied yet (its recordedAt against now);
   * 0 when caught up. Unlike "time since last caught up", it does not grow on a projection that
   * is merely idle and does not reset when a busy one catches up for an instant.
   */
  seconds: number;
}

/** `lagEvents` / `lagLogBytes`: the figure's name says its unit. */
export function lagFieldName(unit: PositionUnit): string {
  return unit === 'events' ? 'lagEvents' : 'lagLogBytes';
}

/**
 * Pure. Offsets are positions in the store's unit (EventStore.positionOffset).
 * `oldestUnappliedAt` is the recordedAt of the first event after the checkpoint, null when there
 * is none (caught up, or the head moved on from a position just read).
 */
export function projectionLag(
  offsets: { checkpoint: number; head: number; unit: PositionUnit },
  oldestUnappliedAt: string | null,
  now: Date,
): ProjectionLag {
  const behind = Math.max(0, offsets.head - offsets.checkpoint);
  if (oldestUnappliedAt === null) return { behind, unit: offsets.unit, seconds: 0 };
  const ageMs = now.getTime() - Date.parse(oldestUnappliedAt);
  // A clock that went backwards (or another machine's) must not make lag negative.
  const seconds = Number.isFinite(ageMs) ? Math.max(0, ageMs) / 1000 : 0;
  return { behind, unit: offsets.unit, seconds };
}

/** A projection's lag, read from the store: its head, and the first event not yet applied. */
export async function measureProjectionLag(
  eventStore: EventStore,
  checkpoint: bigint,
  head: bigint,
  now: Date,
): Promise<ProjectionLag> {
  const [oldest] =
    head > checkpoint ? await eventStore.readAll({ after: checkpoint, maxCount: 1 }) : [];
  return projectionLag(
    {
      checkpoint: eventStore.positionOffset(checkpoint),
      head: eventStore.positionOffset(head),
      unit: eventStore.positionUnit,
    },
    oldest?.metadata.recordedAt ?? null,
    now,
  );
}
