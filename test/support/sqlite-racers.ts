import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/**
 * A thread stands in for another process: better-sqlite3 is synchronous, so calls from one thread
 * never overlap and only separate threads can race for a file's write lock. The thread loads the
 * adapter's TypeScript source through the TypeScript compiler, as Jest does.
 */
export interface Race {
  /** Absolute path of the adapter's .ts source. */
  adapter: string;
  /** The adapter's exported class, constructed with `{ path }`. */
  className: string;
  /** The SQLite file both threads open. */
  path: string;
  /**
   * JavaScript run by each thread: the body of an async function of `store` (the adapter on the
   * file) and `name` (the thread's name) that returns the strings this attempt won.
   */
  attempt: string;
  attempts: number;
}

const RACER_SOURCE = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { readFileSync } = require('node:fs');
  const ts = require(workerData.typescript);
  require.extensions['.ts'] = (module, filename) => {
    const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    module._compile(outputText, filename);
  };
  const Adapter = require(workerData.adapter)[workerData.className];
  const store = new Adapter({ path: workerData.path });
  const AsyncFunction = (async () => {}).constructor;
  const attempt = new AsyncFunction('store', 'name', workerData.attempt);
  parentPort.once('message', async () => {
    const won = [];
    for (let i = 0; i < workerData.attempts; i += 1) {
      won.push(...(await attempt(store, workerData.name)));
    }
    await store.close();
    parentPort.postMessage(won);
  });
  parentPort.postMessage('ready');
`;

/** Runs `race` in two threads at once and returns what each one won. */
export async function raceInTwoThreads(race: Race): Promise<string[][]> {
  const racers = ['thread-1', 'thread-2'].map(
    (name) =>
      new Worker(RACER_SOURCE, {
        eval: true,
        workerData: { ...race, typescript: require.resolve('typescript'), name },
      }),
  );
  try {
    await Promise.all(racers.map((racer) => once(racer, 'message')));
    const results = racers.map(async (racer) => (await once(racer, 'message')) as [string[]]);
    for (const racer of racers) racer.postMessage('go');
    return (await Promise.all(results)).map(([won]) => won);
  } finally {
    await Promise.all(racers.map((racer) => racer.terminate()));
  }
}
