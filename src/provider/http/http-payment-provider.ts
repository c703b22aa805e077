import { Dispatcher, Pool, errors } from 'undici';
import {
  PaymentProvider,
  StatusCheckOutcome,
  Submission,
  SubmissionOutcome,
} from '../payment-provider.port';

export interface HttpPaymentProviderOptions {
  baseUrl: string;
  /** Longer than the provider's own 30 s gateway timeout, so its 504 reaches us first. */
  submitTimeoutMs: number;
  statusTimeoutMs: number;
  /** One request per connection (no pipelining): the most requests waiting at once. */
  connections: number;
}

interface ProviderRecord {
  id?: unknown;
  status?: unknown;
}

const FINAL = new Set(['completed', 'declined']);

function parseRecord(text: string): ProviderRecord | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? parsed : null;
  } catch {
    return null;
  }
}

/** Retry-After is either seconds or an HTTP date. */
function retryAfterMs(header: string | string[] | undefined, now: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError
  );
}

class SendDeadlinePassedError extends Error {
  constructor(sendBy: number) {
    super(
      `not sent: the send deadline ${new Date(sendBy).toISOString()} passed before the request left`,
    );
    this.name = 'SendDeadlinePassedError';
  }
}

/**
 * Aborts a request at the moment it would be written to a connection (undici starts it there)
 * when its send deadline has passed: a request that waited for a connection, or behind an event
 * loop stalled after the caller's own check, never leaves late. Submissions and status checks
 * both carry one.
 */
function sendDeadline(sendBy: number): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) =>
    dispatch(options, {
      onRequestStart(controller, context) {
        if (Date.now() > sendBy) controller.abort(new SendDeadlinePassedError(sendBy));
        else handler.onRequestStart?.(controller, context);
      },
      onRequestUpgrade: (...args) => handler.onRequestUpgrade?.(...args),
      onResponseStart: (...args) => handler.onResponseStart?.(...args),
      onResponseData: (...args) => handler.onResponseData?.(...args),
      onResponseEnd: (...args) => handler.onResponseEnd?.(...args),
      onResponseError: (...args) => handler.onResponseError?.(...args),
    });
}

/**
 * The reference provider's HTTP protocol over a keep-alive pool: `POST /transaction` and
 * `GET /transaction/:id`. Works unchanged against the original mock and our simulator.
 */
export class HttpPaymentProvider extends PaymentProvider {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: HttpPaymentProviderOptions) {
    super();
    const url = new URL(options.baseUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, { connections: options.connections, pipelining: 1 });
  }

  async submit({ providerId, webhookUrl, sendBy }: Submission): Promise<SubmissionOutcome> {
    try {
      const response = await this.pool.compose(sendDeadline(sendBy)).request({
        method: 'POST',
        path: `${this.basePath}/transaction`,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ id: providerId, webhookUrl }),
        headersTimeout: this.options.submitTimeoutMs,
        bodyTimeout: this.options.submitTimeoutMs,
      });
      const text = await response.body.text();
      if (response.statusCode === 504) {
        return { kind: 'ambiguous', reason: 'gateway_timeout', detail: 'provider answered 504' };
      }
      const record = response.statusCode === 200 ? parseRecord(text) : null;
      if (record?.id === providerId && typeof record.status === 'string') {
        if (FINAL.has(record.status)) {
          return { kind: 'final', status: record.status as 'completed' | 'declined' };
        }
        if (record.status === 'pending') return { kind: 'pending' };
      }
      return {
        kind: 'ambiguous',
        reason: 'unexpected_response',
        detail: `HTTP ${response.statusCode}: ${text.slice(0, 200)}`,
      };
    } catch (error) {
      return {
        kind: 'ambiguous',
        reason: isTimeout(error) ? 'timeout' : 'connection',
        detail: error instanceof Error ? error.message : String(error),
      };
    }
  }

  async checkStatus(providerId: string, sendBy: number): Promise<StatusCheckOutcome> {
    try {
      const response = await this.pool.compose(sendDeadline(sendBy)).request({
        method: 'GET',
        path: `${this.basePath}/transaction/${encodeURIComponent(providerId)}`,
        headers: { accept: 'application/json' },
        headersTimeout: this.options.statusTimeoutMs,
        bodyTimeout: this.options.statusTimeoutMs,
      });
      const text = await response.body.text();
      if (response.statusCode === 404) return { kind: 'not_found' };
      if (response.statusCode === 429) {
        return {
          kind: 'rate_limited',
          retryAfterMs: retryAfterMs(response.headers['retry-after'], Date.now()),
        };
      }
      const record = response.statusCode === 200 ? parseRecord(text) : null;
      if (
        record?.id === providerId &&
        typeof record.status === 'string' &&
        (FINAL.has(record.status) || record.status === 'pending')
      ) {
        return { kind: 'found', status: record.status as 'completed' | 'declined' | 'pending' };
      }
      return { kind: 'error', detail: `HTTP ${response.statusCode}: ${text.slice(0, 200)}` };
    } catch (error) {
      if (error instanceof SendDeadlinePassedError) return { kind: 'not_sent' };
      return { kind: 'error', detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * Cuts the requests still waiting (a submission's outcome is then ambiguous and checked later):
   * a stopping service must not wait up to 30 s for each.
   */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
