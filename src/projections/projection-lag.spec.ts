import { projectionLag } from './projection-lag';

const NOW = new Date('2026-11-21T10:00:30.000Z');

describe('projectionLag', () => {
  it('given a caught-up projection, then no lag', () => {
    expect(projectionLag(42n, 42n, null, NOW)).toStrictEqual({ events: 0n, seconds: 0 });
  });

  it('given events after the checkpoint, then the gap to the head and the age of the oldest', () => {
    expect(projectionLag(40n, 45n, '2026-11-21T10:00:00.000Z', NOW)).toStrictEqual({
      events: 5n,
      seconds: 30,
    });
  });

  it('given a checkpoint past a head read a moment earlier, then no lag rather than negative', () => {
    expect(projectionLag(46n, 45n, null, NOW)).toStrictEqual({ events: 0n, seconds: 0 });
  });

  it('given an oldest event stamped after now (another clock), then 0 seconds', () => {
    expect(projectionLag(1n, 2n, '2026-11-21T10:01:00.000Z', NOW).seconds).toBe(0);
  });

  it('given the oldest event gone from the read (head moved on), then events but 0 seconds', () => {
    expect(projectionLag(1n, 3n, null, NOW)).toStrictEqual({ events: 2n, seconds: 0 });
  });
});
