import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { NewEvent, RecordedEvent } from '../event-store/event-store.port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { SystemClock } from '../shared/clock';
import { Projection, ProjectionFailure, ProjectionRunner } from './projection-runner';

/** Records what it applied; refuses any event of the type it is told is poison. */
class RecordingProjection implements Projection {
  readonly name = 'recording';
  readonly applied: bigint[] = [];
  stored: bigint | null = null;

  constructor(private readonly poison: string) {}

  async checkpoint(): Promise<bigint | null> {
    return this.stored;
  }

  async apply(events: RecordedEvent[], checkpoint: bigint): Promise<void> {
    const bad = events.find((event) => event.type === this.poison);
    if (bad) throw new Error(`cannot read ${bad.type}`);
    this.applied.push(...events.map((event) => event.position));
    this.stored = checkpoint;
  }
}

function newEvent(type: string): NewEvent {
  return {
    id: randomUUID(),
    type,
    data: {},
    metadata: { correlationId: 'c', causationId: 'c', actor: 'test', schemaVersion: 1 },
  };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('ProjectionRunner', () => {
  let dir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'projection-runner-'));
    store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), clock: new SystemClock() });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given a bad event in a batch, keeps the events before it, stops there and names it', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    await store.appendToStream('s-1', [newEvent('Good'), newEvent('Good')], {
      expectedRevision: 'no_stream',
    });
    await store.appendToStream('s-2', [newEvent('Poison'), newEvent('Good')], {
      expectedRevision: 'no_stream',
    });
    const projection = new RecordingProjection('Poison');
    const runner = new ProjectionRunner(store, projection);

    await runner.start();
    await until(() => runner.error !== null);

    expect(projection.applied).toStrictEqual([1n, 2n]);
    expect(runner.checkpoint).toBe(2n);
    expect(runner.error).toBeInstanceOf(ProjectionFailure);
    expect(runner.error?.message).toBe(
      'projection recording stopped at position 3 (Poison in s-2): cannot read Poison',
    );
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({
        projection: 'recording',
        eventPosition: '3',
        eventType: 'Poison',
        checkpoint: '2',
      }),
      runner.error?.message,
    );
    // Later events stay unapplied: the projection never skips past the bad one.
    await store.appendToStream('s-3', [newEvent('Good')], { expectedRevision: 'no_stream' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(projection.applied).toStrictEqual([1n, 2n]);
    expect(await runner.waitFor(5n, 50)).toBe(false);
    await runner.stop();
  });

  it('given only good events, applies every one and wakes readers waiting for them', async () => {
    const projection = new RecordingProjection('Poison');
    const runner = new ProjectionRunner(store, projection);
    await runner.start();
    const caughtUp = runner.waitFor(2n, 2000);

    await store.appendToStream('s-1', [newEvent('Good'), newEvent('Good')], {
      expectedRevision: 'no_stream',
    });

    expect(await caughtUp).toBe(true);
    expect(runner.error).toBeNull();
    await runner.stop();
  });
});
