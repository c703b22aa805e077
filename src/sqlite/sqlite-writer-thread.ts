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
  /** The error's name (RangeError, ...), so that the event loop's side can raise its kind again. */
  name?: string;
  /** The error's own fields that survive the copy (strings, numbers, bigints, booleans). */
  fields?: Record<string, string | number | bigint | boolean>;
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
  const { message, code, name } = error as { message?: unknown; code?: unknown; name?: unknown };
  const fields: NonNullable<WriteFailure['fields']> = {};
  for (const [key, value] of typeof error === 'object' && error ? Object.entries(error) : []) {
    const kind = typeof value;
    if (kind === 'string' || kind === 'number' || kind === 'bigint' || kind === 'boolean') {
      fields[key] = value as string | number | bigint | boolean;
    }
  }
  return {
    message: typeof message === 'string' ? message : String(error),
    code: typeof code === 'string' ? code : undefined,
    name: typeof name === 'string' ? name : undefined,
    fields,
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

  /**
   * `errorOf` turns a refused write into the error its caller expects (by default a
   * WriterThreadError with the failure's message and code).
   */
  constructor(
    private readonly name: string,
    private readonly script: string,
    private readonly data: unknown,
    private readonly errorOf: (failure: WriteFailure) => Error = (failure) =>
      new WriterThreadError(failure),
  ) {}

  request(request: Request): Promise<Reply> {
    if (this.closing) return Promise.reject(new Error(`${this.name} is closed`));
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      // A request that cannot be copied (a function in it) fails here and is never in flight.
      worker.postMessage({ id, request } satisfies ToWriter<Request>);
      this.inFlight.set(id, { resolve, reject });
      worker.ref();
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
    else waiting.reject(this.errorOf(message.failure));
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

/** The names of T's methods that a thread may be asked to call (close is the thread's own). */
export type MethodOf<T> = Exclude<
  { [M in keyof T]: T[M] extends (...args: never[]) => unknown ? M : never }[keyof T],
  'close'
>;
type ArgumentsOf<F> = F extends (...args: infer A) => unknown ? A : never;
type ResultOf<F> = F extends (...args: never[]) => infer R ? R : never;

/** A call of one of T's methods, as it crosses to the thread. */
export type MethodCall<T> = {
  [M in MethodOf<T>]: { method: M; args: ArgumentsOf<T[M]> };
}[MethodOf<T>];

/**
 * A writer thread that holds an object of class T and runs its (synchronous) methods: the event
 * loop's side of `serveMethods`. A new method of T is callable as soon as it exists, typed by T.
 */
export class MethodThread<T> extends WriterThread<MethodCall<T>, unknown> {
  call<M extends MethodOf<T>>(method: M, ...args: ArgumentsOf<T[M]>): Promise<ResultOf<T[M]>> {
    return this.request({ method, args }) as Promise<ResultOf<T[M]>>;
  }
}

/** The thread's end of a MethodThread: runs each call on the object `open` makes. */
export function serveMethods<T extends { close(): void }>(open: (data: unknown) => T): void {
  serveWrites<MethodCall<T>, unknown>((data) => {
    const target = open(data);
    return {
      write({ method, args }) {
        const run: unknown = target[method];
        if (method === 'close' || typeof run !== 'function') {
          throw new Error(`no method ${String(method)} to call on the thread`);
        }
        return (run as (...args: unknown[]) => unknown).apply(target, args);
      },
      close: () => target.close(),
    };
  });
}
