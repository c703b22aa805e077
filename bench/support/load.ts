import autocannon from 'autocannon';
import type { Random } from '../../src/shared/random';

/**
 * Request bodies for POST /v1/transactions: new ids, plus a share of retries of earlier ids.
 * A body is a pure function of its index, so a retry is byte-for-byte the original request and
 * the service must answer it as an idempotent replay.
 */
export class TransactionBodies {
  private uniques = 0;
  private retries = 0;

  constructor(
    private readonly prefix: string,
    private readonly duplicateShare: number,
    /**
     * Retries pick among ids issued at least this many unique requests ago, so the original has
     * almost always been answered: each connection has one request in flight at a time.
     */
    private readonly lag: number,
    private readonly random: Random,
  ) {}

  next(): string {
    if (this.uniques > this.lag && this.random.next() < this.duplicateShare) {
      this.retries++;
      return this.bodyFor(Math.floor(this.random.next() * (this.uniques - this.lag)));
    }
    return this.bodyFor(this.uniques++);
  }

  /** Bodies built so far; up to one per connection is built but never sent when the run stops. */
  get counts(): { unique: number; retries: number } {
    return { unique: this.uniques, retries: this.retries };
  }

  private bodyFor(index: number): string {
    return JSON.stringify({
      id: `${this.prefix}-${index}`,
      amount: 100 + (index % 9_900),
      currency: 'KES',
      recipient: `+2547${String(index % 100_000_000).padStart(8, '0')}`,
      note: 'bench',
    });
  }
}

export interface LoadOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
  bodies: TransactionBodies;
  /**
   * Headers each connection adds to `headers`, assigned round-robin as autocannon opens its
   * connections: one bearer token per customer makes each connection pay as its own customer.
   */
  perConnectionHeaders?: readonly Record<string, string>[];
  /**
   * Requests per second across all connections, as customers arrive: the rate does not rise when
   * the service answers faster. Each connection still holds one request at a time, so a service
   * slower than connections / rate shows as an achieved rate below the offered one.
   */
  overallRate?: number;
}

export interface LoadOutcome {
  result: autocannon.Result;
  /** Answers carrying `Idempotent-Replayed: true`. */
  replayed: number;
  statusCounts: Record<string, number>;
}

export async function runLoad(options: LoadOptions): Promise<LoadOutcome> {
  let replayed = 0;
  const statusCounts: Record<string, number> = {};
  const headers = { 'content-type': 'application/json', ...options.headers };
  const perConnection = options.perConnectionHeaders ?? [];
  let connectionsSetUp = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    overallRate: options.overallRate,
    setupClient: (client) => {
      if (perConnection.length === 0) return;
      const own = perConnection[connectionsSetUp++ % perConnection.length];
      client.setHeaders({ ...headers, ...own });
    },
    requests: [
      {
        method: 'POST',
        path: options.path,
        headers,
        setupRequest: (request) => ({ ...request, body: options.bodies.next() }),
        onResponse: (status, _body, _context, headers) => {
          statusCounts[status] = (statusCounts[status] ?? 0) + 1;
          // autocannon keeps the header names as the server sent them.
          for (const [name, value] of Object.entries(headers ?? {})) {
            if (name.toLowerCase() === 'idempotent-replayed' && value === 'true') replayed++;
          }
        },
      },
    ],
  });
  return { result, replayed, statusCounts };
}
