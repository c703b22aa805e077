import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriterThread, WriterThreadError, threadScript } from './sqlite-writer-thread';

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
