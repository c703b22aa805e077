import { foldStatistics, StatisticsGroup } from './summary-statistics';

function group(
  key: Partial<StatisticsGroup['_id']>,
  count: number,
  statusChecks = 0,
  maxStatusChecks: number | null = statusChecks,
): StatisticsGroup {
  return {
    _id: {
      status: null,
      stage: null,
      timeToFinalBucket: null,
      attempts: null,
      finalSource: null,
      ...key,
    },
    count,
    statusChecks,
    maxStatusChecks,
  };
}

describe('foldStatistics', () => {
  it('reports zeros, every histogram bucket included, for no groups', () => {
    expect(foldStatistics([])).toStrictEqual({
      transactions: 0,
      byStatus: {},
      byStage: {},
      timeToFinal: [1, 5, 15, 60, 300, 900, null].map((belowSeconds) => ({
        belowSeconds,
        count: 0,
      })),
      statusChecks: { total: 0, mean: 0, max: 0 },
      providerAttempts: {},
      finalStatusSources: {},
    });
  });

  it('adds up groups that share a dimension, and leaves absent dimensions out', () => {
    const final = { status: 'SUCCEEDED', stage: 'final', attempts: 1 };
    const groups = [
      group({ ...final, timeToFinalBucket: 0, finalSource: 'submission' }, 1),
      group({ ...final, timeToFinalBucket: 1, finalSource: 'submission' }, 1),
      group({ ...final, timeToFinalBucket: 2, finalSource: 'webhook' }, 1),
      group({ ...final, timeToFinalBucket: 6, finalSource: 'status_check' }, 1),
      group(
        { ...final, status: 'FAILED', timeToFinalBucket: 4, finalSource: 'status_check' },
        1,
        3,
      ),
      group({ status: 'PENDING', stage: 'submitted', attempts: 2 }, 1, 1),
      group({ status: 'PENDING', stage: 'requested', attempts: 0 }, 1),
      group(
        {
          status: 'SUCCEEDED',
          stage: 'needs_reconciliation',
          attempts: 1,
          timeToFinalBucket: 5,
          finalSource: 'submission',
        },
        1,
      ),
    ];

    expect(foldStatistics(groups)).toStrictEqual({
      transactions: 8,
      byStatus: { PENDING: 2, SUCCEEDED: 5, FAILED: 1 },
      byStage: { final: 5, submitted: 1, requested: 1, needs_reconciliation: 1 },
      timeToFinal: [
        { belowSeconds: 1, count: 1 },
        { belowSeconds: 5, count: 1 },
        { belowSeconds: 15, count: 1 },
        { belowSeconds: 60, count: 0 },
        { belowSeconds: 300, count: 1 },
        { belowSeconds: 900, count: 1 },
        { belowSeconds: null, count: 1 },
      ],
      statusChecks: { total: 4, mean: 0.5, max: 3 },
      providerAttempts: { '0': 1, '1': 6, '2': 1 },
      finalStatusSources: { submission: 3, webhook: 1, status_check: 2 },
    });
  });

  it('takes the largest maximum and the sum of the totals across groups', () => {
    const folded = foldStatistics([
      group({ status: 'PENDING' }, 3, 7, 4),
      group({ status: 'PENDING', stage: 'checking' }, 1, 5, 5),
      group({ status: 'FAILED' }, 1, 0, null),
    ]);
    expect(folded.statusChecks).toStrictEqual({ total: 12, mean: 12 / 5, max: 5 });
    expect(folded.byStatus).toStrictEqual({ PENDING: 4, FAILED: 1 });
  });
});
