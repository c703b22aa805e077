/**
 * The HTTP fuzz of `npm test`, as long as asked:
 *
 *   npm run fuzz [-- --requests 100000] [--seed 42]
 *
 * Prints the answers by status, the 5xx count and the refused requests that changed the event
 * store (both must be 0); exits 1 with the shrunk counterexample at the first broken rule.
 */
import { parseArgs } from 'node:util';
import { FuzzTarget } from './support/http-fuzz';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string' }, seed: { type: 'string' } },
  });
  const requests = Number(values.requests ?? 10_000);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  const target = await FuzzTarget.start();
  const started = performance.now();
  try {
    console.log(`fuzzing ${requests} requests, seed ${seed}`);
    const statistics = await target.run(requests, seed);
    const seconds = (performance.now() - started) / 1000;
    const byStatus = [...statistics.byStatus].sort(([a], [b]) => a - b);
    console.log(`${statistics.requests} requests in ${seconds.toFixed(0)} s`);
    console.log(
      `by status: ${byStatus.map(([status, count]) => `${status}: ${count}`).join(', ')}`,
    );
    console.log(`5xx: ${statistics.serverErrors}`);
    console.log(
      `refused requests that changed the event store: ${statistics.refusedWithStateChange}`,
    );
  } finally {
    await target.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
