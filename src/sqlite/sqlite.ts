import Database from 'better-sqlite3';

/** Another process may hold the write lock for the length of its own commit. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens one of the embedded stores' SQLite files the way they all need it: WAL (readers and the
 * one writer work at once, and several processes can share the file), a busy timeout so a
 * waiting process queues instead of failing, and the durability the store asks for.
 */
export function openSqliteDatabase(
  path: string,
  synchronous: 'FULL' | 'NORMAL',
): Database.Database {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  // Some file systems cannot provide WAL; better to refuse than to run without it.
  const journalMode = db.pragma('journal_mode = WAL', { simple: true });
  if (journalMode !== 'wal') {
    db.close();
    throw new Error(`${path} cannot use WAL (journal mode is ${String(journalMode)})`);
  }
  db.pragma(`synchronous = ${synchronous}`);
  return db;
}
