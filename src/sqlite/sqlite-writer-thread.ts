import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { MessagePort, Worker, parentPort, workerData } from 'node:worker_threads';

/**
 * A SQLite writer on its own thread. better-sqlite3 is synchronous: a commit (and, for the event
 * store, its fsync) stops the event loop for its whole length. On a thread of its own it runs
 * beside request handling, on another core when there is one, and the event loop only posts the
 * batch and later settles its promises.
 */

/** Why a write failed, as it crosses the thread boundary (a class does not survive the copy). */
export interface WriteFailure {
  message: string;
  /** SQLite's error code (SQLITE_BUSY, SQLITE_CONSTRAINT_UNIQUE, ...), when there is one. */
  code?: string;
}

type ToWriter<Request> = { id: number; request: Request } | { close: true };
type FromWriter<Reply> =
  { id: number; ok: true; reply: Reply } | { id: number; ok: false; failure: WriteFailure };

export class WriterThreadError extends Error {
  readonly code: string | undefined;

  constructor(failure: WriteFailure) {
    super(failure.message);
    this.name = 'WriterThreadError';
    this.code = failure.code;
  }
}

export function writeFailureOf(error: unknown): WriteFailure {
  const { message, code } = error as { message?: unknown; code?: unknown };
  return {
    message: typeof message === 'string' ? message : String(error),
    code: typeof code === 'string' ? code : undefined,
  };
}

/**
 * The compiled script of a thread entry file. A build runs its sibling .js; the test runner runs
 * the TypeScript sources, and a thread cannot load TypeScript, so it runs the same file from
 * dist/ (`npm test` builds first).
 */
export function threadScript(directory: string, entryFile: string): string {
  const beside = join(directory, `${entryFile}.js`);
  if (existsSync(beside)) return beside;
  // Only sources lack the sibling: this file is src/sqlite/, two levels below the repository.
  const root = resolve(__dirname, '..', '..');
  const built = join(root, 'dist', relative(root, directory), `${entryFile}.js`);
  if (existsSync(built)) return built;
  throw new Error(`Cannot find ${beside} or ${built}: run "npm run build" first`);
}

interface InFlight<Reply> {
  resolve(reply: Reply): void;
  reject(error: unknown): void;
}

/**
 * The event loop's end of a writer thread. Started on the first request, so a reader that never
 * writes (the audit CLI) starts no thread. It keeps the process alive only while a request is
 * in flight. If the thread dies, the requests in flight fail (their outcome is unknown: they
 * may have committed) and the next request starts a new thread.
 */
export class WriterThread<Request, Reply> {
  private worker: Worker | null = null;
  private readonly inFlight = new Map<number, InFlight<Reply>>();
  private nextId = 1;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly script: string,
    private readonly data: unknown,
  ) {}

  request(request: Request): Promise<Reply> {
    if (this.closing) return Promise.reject(new Error(`${this.name} is closed`));
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, request } satisfies ToWriter<Request>);
    });
  }

  /** Lets the requests already sent finish, then closes the thread's database and ends it. */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ close: true } satisfies ToWriter<Request>);
    await exited;
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, { workerData: this.data, name: this.name });
    worker.unref();
    worker.on('message', (message: FromWriter<Reply>) => this.settle(message));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', (code) => this.fail(worker, new Error(`exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private settle(message: FromWriter<Reply>): void {
    const waiting = this.inFlight.get(message.id);
    if (!waiting) return;
    this.inFlight.delete(message.id);
    if (this.inFlight.size === 0) this.worker?.unref();
    if (message.ok) waiting.resolve(message.reply);
    else waiting.reject(new WriterThreadError(message.failure));
  }

  private fail(worker: Worker, cause: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const error = new Error(
      `${this.name} thread stopped (${cause.message}); the outcome of its unfinished writes is unknown`,
      { cause },
    );
    for (const waiting of this.inFlight.values()) waiting.reject(error);
    this.inFlight.clear();
  }
}

/**
 * The thread's end: answers each request with `write` (synchronously, in arrival order) until
 * told to close, then runs `close` and lets the thread end.
 */
export function serveWrites<Request, Reply>(
  open: (data: unknown) => { write(request: Request): Reply; close(): void },
): void {
  const port: MessagePort | null = parentPort;
  if (!port) throw new Error('serveWrites runs on a worker thread only');
  const writer = open(workerData);
  port.on('message', (message: ToWriter<Request>) => {
    if ('close' in message) {
      writer.close();
      port.close();
      return;
    }
    let answer: FromWriter<Reply>;
    try {
      answer = { id: message.id, ok: true, reply: writer.write(message.request) };
    } catch (error) {
      answer = { id: message.id, ok: false, failure: writeFailureOf(error) };
    }
    port.postMessage(answer);
  });
}
