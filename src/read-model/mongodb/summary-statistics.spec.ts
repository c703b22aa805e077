import { statisticsPipeline } from './summary-statistics';

describe('statisticsPipeline', () => {
  it('reads only the given copy', () => {
    expect(statisticsPipeline(4)[0]).toStrictEqual({ $match: { generation: 4 } });
  });

  it('buckets time to final by the shared bounds in order, exclusive, in milliseconds', () => {
    const [, { $group }] = statisticsPipeline(0, [1, 5]) as [unknown, { $group: GroupStage }];
    const [hasFinal, bucket, notFinal] = $group._id.timeToFinalBucket.$cond;

    expect(hasFinal).toStrictEqual({ $eq: [{ $type: '$state.finalizedAt' }, 'string'] });
    expect(bucket.$let.in.$switch).toStrictEqual({
      branches: [
        { case: { $lt: ['$$ms', 1000] }, then: 0 },
        { case: { $lt: ['$$ms', 5000] }, then: 1 },
      ],
      default: 2,
    });
    expect(notFinal).toBeNull();
  });
});

/** The part of the $group stage the bucket test looks into. */
interface GroupStage {
  _id: {
    timeToFinalBucket: {
      $cond: [unknown, { $let: { in: { $switch: unknown } } }, unknown];
    };
  };
}
