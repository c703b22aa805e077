import type { Document } from 'mongodb';
import { TIME_TO_FINAL_BUCKET_BOUNDS } from '../../transactions/read-model.port';
import type { Generation } from './summary-documents';

/**
 * The histogram bucket index of a final summary, generated from the shared bounds: the first
 * bound its time to final is below (exclusive), or the open last bucket. Both timestamps are ISO
 * strings with milliseconds; subtracting two dates gives exact integer milliseconds.
 */
function timeToFinalBucket(bounds: readonly number[]): Document {
  return {
    $cond: [
      { $eq: [{ $type: '$state.finalizedAt' }, 'string'] },
      {
        $let: {
          vars: {
            ms: {
              $subtract: [
                { $dateFromString: { dateString: '$state.finalizedAt' } },
                { $dateFromString: { dateString: '$state.requestedAt' } },
              ],
            },
          },
          in: {
            $switch: {
              branches: bounds.map((bound, index) => ({
                case: { $lt: ['$$ms', bound * 1000] },
                then: index,
              })),
              default: bounds.length,
            },
          },
        },
      },
      null,
    ],
  };
}

export function statisticsPipeline(
  generation: Generation,
  bounds: readonly number[] = TIME_TO_FINAL_BUCKET_BOUNDS,
): Document[] {
  return [
    { $match: { generation } },
    {
      $group: {
        _id: {
          status: { $ifNull: ['$status', null] },
          stage: { $ifNull: ['$stage', null] },
          timeToFinalBucket: timeToFinalBucket(bounds),
          attempts: {
            $cond: [{ $isArray: '$state.attempts' }, { $size: '$state.attempts' }, null],
          },
          finalSource: { $ifNull: ['$state.finalSource', null] },
        },
        count: { $sum: 1 },
        statusChecks: { $sum: '$state.statusChecks' },
        maxStatusChecks: { $max: '$state.statusChecks' },
      },
    },
  ];
}
