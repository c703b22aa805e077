import type {
  AppendResult,
  ExpectedRevision,
  NewEvent,
} from '../../src/event-store/event-store.port';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store';
import type { Clock } from '../../src/shared/clock';

/**
 * The event store of one instance, with another writer (a second instance on the same file) that
 * appends `rivalEvent()` to the stream just before each of our next `rivalWrites` appends: the
 * race an expected-revision check exists for, made deterministic.
 */
export class ContendedEventStore extends SqliteEventStore {
  rivalWrites = 0;

  constructor(
    path: string,
    clock: Clock,
    private readonly rival: SqliteEventStore,
    private readonly rivalEvent: () => NewEvent,
  ) {
    super({ path, clock, pollIntervalMs: 20 });
  }

  override async appendToStream(
    streamName: string,
    events: NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    if (this.rivalWrites > 0) {
      this.rivalWrites -= 1;
      await this.rival.appendToStream(streamName, [this.rivalEvent()], {
        expectedRevision: 'stream_exists',
      });
    }
    return super.appendToStream(streamName, events, options);
  }
}
