import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MethodThread,
  WriterThread,
  WriterThreadError,
  threadScript,
} from './sqlite-writer-thread';

/**
 * A writer that doubles numbers, fails on 'fail', dies on 'die', and records in a file that it
 * was closed, so that each way a request can end is seen from the event loop's side.
 */
function writeTestThread(directory: string): string {
  const script = join(directory, 'doubling.thread.js');
  const serveWritesModule = threadScript(__dirname, 'sqlite-writer-thread');
  writeFileSync(
    script,
    `const { writeFileSync } = require('node:fs');
     const { serveWrites } = require(${JSON.stringify(serveWritesModule)});
     serveWrites((closedMarker) => ({
       write(request) {
         if (request === 'fail') throw Object.assign(new Error('refused'), { code: 'E_REFUSED' });
         if (request === 'die') process.exit(3);
         return request * 2;
       },
       close() { writeFileSync(closedMarker, 'closed'); },
     }));`,
  );
  return script;
}

describe('WriterThread', () => {
  let directory: string;
  let writer: WriterThread<number | string, number>;
  let closedMarker: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'writer-thread-'));
    closedMarker = join(directory, 'closed');
    writer = new WriterThread('doubling-writer', writeTestThread(directory), closedMarker);
  });

  afterEach(async () => {
    await writer.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('answers each request with what the thread wrote', async () => {
    await expect(
      Promise.all([writer.request(1), writer.request(2), writer.request(3)]),
    ).resolves.toEqual([2, 4, 6]);
  });

  it('rejects a refused write with its message and code, and goes on', async () => {
    const refused = writer.request('fail');
    await expect(refused).rejects.toBeInstanceOf(WriterThreadError);
    await expect(refused).rejects.toMatchObject({ message: 'refused', code: 'E_REFUSED' });
    await expect(writer.request(5)).resolves.toBe(10);
  });

  it('fails the writes in flight when the thread dies, and starts a new thread for the next', async () => {
    const dying = writer.request('die');
    await expect(dying).rejects.toThrow(/doubling-writer thread stopped.*outcome .* unknown/);
    await expect(writer.request(21)).resolves.toBe(42);
  });

  it('answers the writes already sent before closing, then refuses new ones', async () => {
    const sent = writer.request(4);
    await writer.close();

    await expect(sent).resolves.toBe(8);
    await expect(writer.request(1)).rejects.toThrow('doubling-writer is closed');
    expect(() => writeFileSync(closedMarker, '', { flag: 'wx' })).toThrow(/EEXIST/);
  });

  it('starts no thread until the first write', async () => {
    await writer.close();

    expect(() => writeFileSync(closedMarker, '', { flag: 'wx' })).not.toThrow();
  });
});

/** What serveMethods serves in the test below: a total kept on the thread. */
interface Tally {
  add(amount: number): number;
  refuse(reason: string): never;
  close(): void;
}

describe('MethodThread', () => {
  let directory: string;
  let tally: MethodThread<Tally>;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'method-thread-'));
    const script = join(directory, 'tally.thread.js');
    writeFileSync(
      script,
      `const { serveMethods } = require(${JSON.stringify(threadScript(__dirname, 'sqlite-writer-thread'))});
       serveMethods((start) => ({
         total: start,
         add(amount) { return (this.total += amount); },
         refuse(reason) { throw Object.assign(new RangeError(reason), { limit: 10n, hard: true }); },
         close() {},
       }));`,
    );
    tally = new MethodThread<Tally>('tally', script, 100, (failure) =>
      failure.name === 'RangeError'
        ? new RangeError(`${failure.message} ${failure.fields?.limit}`)
        : new WriterThreadError(failure),
    );
  });

  afterEach(async () => {
    await tally.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('calls the named method on the object the thread holds, in the order of the calls', async () => {
    await expect(Promise.all([tally.call('add', 1), tally.call('add', 2)])).resolves.toEqual([
      101, 103,
    ]);
  });

  it('raises a refused call as the error made from its name and fields', async () => {
    const refused = tally.call('refuse', 'too much');
    await expect(refused).rejects.toBeInstanceOf(RangeError);
    await expect(refused).rejects.toThrow('too much 10');
  });

  it('refuses to call close, or a name that is no method', async () => {
    const forged = tally as unknown as MethodThread<{ close(): void; total: number }>;
    await expect(forged.request({ method: 'close', args: [] } as never)).rejects.toThrow(
      'no method close to call on the thread',
    );
    await expect(forged.request({ method: 'total', args: [] } as never)).rejects.toThrow(
      'no method total to call on the thread',
    );
    await expect(tally.call('add', 1)).resolves.toBe(101);
  });
});
