import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  MessagePort,
  Worker,
  parentPort,
  receiveMessageOnPort,
  workerData,
} from 'node:worker_threads';

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

interface Sent<Request> {
  id: number;
  request: Request;
}
type ToWriter<Request> = Sent<Request> | { close: true };
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

/** How one request ended on the thread. */
export type Outcome<Reply> = { ok: true; reply: Reply } | { ok: false; error: unknown };

/** What a writer thread runs the requests it is sent with. */
export interface Writer<Request, Reply> {
  write(request: Request): Reply;
  /**
   * Optional: writes requests that reached the thread together (sent while it was busy) in one
   * commit. Each keeps its own outcome: one that fails changes nothing, whatever the others do.
   * Throws, failing all of them, when the commit itself fails.
   */
  writeTogether?(requests: readonly Request[]): Outcome<Reply>[];
  close(): void;
}

function outcomeOf<Request, Reply>(
  writer: Writer<Request, Reply>,
  request: Request,
): Outcome<Reply> {
  try {
    return { ok: true, reply: writer.write(request) };
  } catch (error) {
    return { ok: false, error };
  }
}

function answerOf<Reply>(id: number, outcome: Outcome<Reply>): FromWriter<Reply> {
  return outcome.ok
    ? { id, ok: true, reply: outcome.reply }
    : { id, ok: false, failure: writeFailureOf(outcome.error) };
}

/**
 * The thread's end: answers the requests in arrival order until told to close, then runs
 * `close` and lets the thread end. The requests that arrived while it was busy are written
 * together when the writer can (`writeTogether`), and answered once written.
 */
export function serveWrites<Request, Reply>(open: (data: unknown) => Writer<Request, Reply>): void {
  const port: MessagePort | null = parentPort;
  if (!port) throw new Error('serveWrites runs on a worker thread only');
  const writer = open(workerData);
  port.on('message', (first: ToWriter<Request>) => {
    const messages = [first];
    for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) {
      messages.push(next.message as ToWriter<Request>);
    }
    const sent = messages.filter((message): message is Sent<Request> => !('close' in message));
    if (sent.length > 1 && writer.writeTogether) {
      let outcomes: Outcome<Reply>[];
      try {
        outcomes = writer.writeTogether(sent.map(({ request }) => request));
      } catch (error) {
        outcomes = sent.map(() => ({ ok: false, error }));
      }
      sent.forEach(({ id }, index) => port.postMessage(answerOf(id, outcomes[index])));
    } else {
      for (const { id, request } of sent) {
        port.postMessage(answerOf(id, outcomeOf(writer, request)));
      }
    }
    if (sent.length < messages.length) {
      writer.close();
      port.close();
    }
  });
}

/** A call that reached the thread with others: its method's name, and the call itself. */
export interface QueuedCall {
  method: string;
  run: () => unknown;
}

/** What serveMethods can serve: close, and optionally together, are the thread's own. */
export interface ThreadTarget {
  close(): void;
  /** Runs calls that reached the thread together (see Writer.writeTogether). */
  together?(calls: readonly QueuedCall[]): Outcome<unknown>[];
}

/** The names of T's methods that a thread may be asked to call. */
export type MethodOf<T> = Exclude<
  { [M in keyof T]: T[M] extends (...args: never[]) => unknown ? M : never }[keyof T],
  keyof ThreadTarget
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
export function serveMethods<T extends ThreadTarget>(open: (data: unknown) => T): void {
  serveWrites<MethodCall<T>, unknown>((data) => {
    const target = open(data);
    const invoke = ({ method, args }: MethodCall<T>): unknown => {
      const run: unknown = target[method];
      if (method === 'close' || method === 'together' || typeof run !== 'function') {
        throw new Error(`no method ${String(method)} to call on the thread`);
      }
      return (run as (...args: unknown[]) => unknown).apply(target, args);
    };
    const together = target.together?.bind(target);
    return {
      write: invoke,
      writeTogether: together
        ? (calls) =>
            together(
              calls.map((call) => ({ method: String(call.method), run: () => invoke(call) })),
            )
        : undefined,
      close: () => target.close(),
    };
  });
}
