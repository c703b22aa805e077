import Database from 'better-sqlite3';

/**
 * Every stream name with a row in the embedded read model, read straight from its file,
 * read-only. The ReadModel port has no "list every row" (queries are per owner or per stream),
 * and the verifier needs it to find rows whose stream has no events; a MongoDB verifier needs
 * the same query on its collection.
 */
export function* sqliteReadModelStreamNames(path: string): Generator<string> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    yield* db
      .prepare<[], string>('SELECT stream_name FROM transaction_summaries')
      .pluck()
      .iterate();
  } finally {
    db.close();
  }
}
