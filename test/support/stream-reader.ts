import { join } from 'node:path';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store';
import { SystemClock } from '../../src/shared/clock';
import { streamNameFor } from '../../src/transactions/transaction-id';
import type { ServiceHarness } from './service-harness';

/** A transaction's stream as a second process reads it straight from the SQLite file. */
export async function streamOf(service: ServiceHarness, transactionId: string) {
  const store = new SqliteEventStore({
    path: join(service.dataDir, 'events.sqlite'),
    clock: new SystemClock(),
  });
  try {
    return await store.readStream(streamNameFor(transactionId));
  } finally {
    await store.close();
  }
}
