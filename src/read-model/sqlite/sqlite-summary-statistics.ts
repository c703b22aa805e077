import type Database from 'better-sqlite3';
import { SummaryStatistics, TIME_TO_FINAL_BUCKET_BOUNDS } from '../../transactions/read-model.port';

/** Milliseconds from request to final status, rounded so that float error never moves a bucket. */
const TIME_TO_FINAL_MS = `CAST(ROUND(
    (julianday(json_extract(state, '$.finalizedAt')) - julianday(requested_at)) * 86400000
  ) AS INTEGER)`;

/** The histogram bucket index of a row, generated from the shared bounds. */
const TIME_TO_FINAL_BUCKET = `CASE
    ${TIME_TO_FINAL_BUCKET_BOUNDS.map((bound, i) => `WHEN ${TIME_TO_FINAL_MS} < ${bound * 1000} THEN ${i}`).join('\n    ')}
    ELSE ${TIME_TO_FINAL_BUCKET_BOUNDS.length}
  END`;

/** Rows of `SELECT key, COUNT(*) AS count ... GROUP BY key` as a record, NULL keys left out. */
function countsByKey(
  rows: { key: string | bigint | null; count: bigint }[],
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { key, count } of rows) if (key !== null) counts[String(key)] = Number(count);
  return counts;
}

/** One read transaction, so that every figure describes the same moment. */
export function prepareSummaryStatistics(
  db: Database.Database,
): Database.Transaction<() => SummaryStatistics> {
  type KeyCount = { key: string | bigint | null; count: bigint };
  const byStatus = db.prepare<[], KeyCount>(
    'SELECT status AS key, COUNT(*) AS count FROM transaction_summaries GROUP BY status',
  );
  const byStage = db.prepare<[], KeyCount>(
    'SELECT stage AS key, COUNT(*) AS count FROM transaction_summaries GROUP BY stage',
  );
  const byBucket = db.prepare<[], KeyCount>(
    `SELECT ${TIME_TO_FINAL_BUCKET} AS key, COUNT(*) AS count FROM transaction_summaries
     WHERE json_extract(state, '$.finalizedAt') IS NOT NULL
     GROUP BY key`,
  );
  const byAttempts = db.prepare<[], KeyCount>(
    `SELECT json_array_length(state, '$.attempts') AS key, COUNT(*) AS count
     FROM transaction_summaries GROUP BY key`,
  );
  const bySource = db.prepare<[], KeyCount>(
    `SELECT json_extract(state, '$.finalSource') AS key, COUNT(*) AS count
     FROM transaction_summaries GROUP BY key`,
  );
  const checks = db.prepare<[], { transactions: bigint; total: bigint | null; max: bigint | null }>(
    `SELECT COUNT(*) AS transactions,
            SUM(json_extract(state, '$.statusChecks')) AS total,
            MAX(json_extract(state, '$.statusChecks')) AS max
     FROM transaction_summaries`,
  );
  return db.transaction(() => {
    const statusChecks = checks.get()!;
    const transactions = Number(statusChecks.transactions);
    const total = Number(statusChecks.total ?? 0);
    const buckets = countsByKey(byBucket.all());
    return {
      transactions,
      byStatus: countsByKey(byStatus.all()),
      byStage: countsByKey(byStage.all()),
      timeToFinal: [...TIME_TO_FINAL_BUCKET_BOUNDS, null].map((belowSeconds, i) => ({
        belowSeconds,
        count: buckets[String(i)] ?? 0,
      })),
      statusChecks: {
        total,
        mean: transactions === 0 ? 0 : total / transactions,
        max: Number(statusChecks.max ?? 0),
      },
      providerAttempts: countsByKey(byAttempts.all()),
      finalStatusSources: countsByKey(bySource.all()),
    };
  });
}
