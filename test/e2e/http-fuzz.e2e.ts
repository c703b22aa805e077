import { FuzzTarget } from '../../bench/support/http-fuzz';

/**
 * A short run of the HTTP fuzz on every `npm test` (a new seed each time; a failure prints the
 * seed and the shrunk request). `npm run fuzz -- --requests 100000` runs it for longer.
 */
describe('random requests on every route', () => {
  let target: FuzzTarget;

  beforeAll(async () => {
    target = await FuzzTarget.start();
  });

  afterAll(() => target.close());

  it('never answer 5xx, always answer 4xx as a problem, and change nothing when refused', async () => {
    const statistics = await target.run(1000);
    expect(statistics.requests).toBe(1000);
    expect(statistics.serverErrors).toBe(0);
    expect(statistics.refusedWithStateChange).toBe(0);
  });
});
