import { interpretProviderCheck } from './status-check-answer';

describe('interpretProviderCheck', () => {
  it.each([
    [{ kind: 'found', status: 'completed' } as const, 'completed'],
    [{ kind: 'found', status: 'declined' } as const, 'declined'],
    [{ kind: 'found', status: 'pending' } as const, 'pending'],
    [{ kind: 'not_found' } as const, 'not_found'],
  ])('records what the provider said (%p)', (outcome, providerStatus) => {
    expect(interpretProviderCheck(outcome, 10_000)).toStrictEqual({
      kind: 'answered',
      providerStatus,
    });
  });

  it("waits for the provider's Retry-After on a 429, or the default backoff without one", () => {
    expect(
      interpretProviderCheck({ kind: 'rate_limited', retryAfterMs: 3_000 }, 10_000),
    ).toStrictEqual({ kind: 'rate_limited', retryAfterMs: 3_000 });
    expect(
      interpretProviderCheck({ kind: 'rate_limited', retryAfterMs: null }, 10_000),
    ).toStrictEqual({ kind: 'rate_limited', retryAfterMs: 10_000 });
  });

  it('reports an error as unavailable, with its detail', () => {
    expect(interpretProviderCheck({ kind: 'error', detail: 'HTTP 502' }, 10_000)).toStrictEqual({
      kind: 'unavailable',
      detail: 'HTTP 502',
    });
  });
});
