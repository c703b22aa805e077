import { request } from 'undici';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import type { FaultPeriodsRequest } from '../../src/provider-simulator/fault-periods';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import { until } from '../support/polling';
import { ServiceHarness } from '../support/service-harness';

interface Notice {
  code: string;
  message: string;
}
interface Status {
  state: string;
  notice?: Notice;
  lastAnswerMsAgo: number | null;
  recent: { submissions: number; gatewayTimeoutShare: number; answerLatencyP90Ms: number | null };
}
interface View {
  status: string;
  providerNotice?: Notice;
}

/** Real ms for provider seconds. */
const real = (seconds: number) => seconds * 1000 * SCALE;
/** Three times the reference's slowest answer (10 s), so a loaded machine's lag stays normal. */
const SLOW_P90_MS = real(30);
/** Slow answers: well above the threshold, and well within our own timeout below. */
const SLOW_ANSWER_SECONDS = 50;
const OUTAGE_SILENCE_MS = real(200);

/**
 * The provider's health as the customer sees it, driven by the simulator's fault periods
 * (`POST /_sim/faults`) in compressed time: a slow period, a 504 storm, an outage, recovery. One
 * transaction stays pending throughout (its POST is lost and a 429 storm refuses every status
 * check), so its view and its SSE stream show each state as it comes.
 */
describe('provider health driven by simulator fault periods (compressed time)', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;
  let token: string;
  let submitted = 0;
  const watched = 'health-watched';
  let streamed = '';
  let closeStream: () => void;

  /** Keeps the watched transaction pending: no status check gets an answer. */
  const checksRefused = { fault: 'rateLimitStorms', forSeconds: 100_000 } as const;
  const faults = (...periods: FaultPeriodsRequest['periods']) =>
    simulator.faults({ periods: [checksRefused, ...periods] });

  beforeAll(async () => {
    simulator = await startProviderSimulator({ timeScale: SCALE, seed: 20261205, p504: 0 });
    service = await ServiceHarness.start({
      ...compressedServiceEnv(simulator.url),
      // Longer than the reference's 45 s: a slow answer must never become our own timeout.
      PROVIDER_SUBMIT_TIMEOUT_MS: String(real(150)),
      PROVIDER_HEALTH_MIN_SUBMISSIONS: '4',
      PROVIDER_HEALTH_SHORT_WINDOW_MS: String(real(200)),
      PROVIDER_HEALTH_LONG_WINDOW_MS: String(real(3_000)),
      PROVIDER_HEALTH_SLOW_P90_MS: String(SLOW_P90_MS),
      PROVIDER_HEALTH_OUTAGE_SILENCE_MS: String(OUTAGE_SILENCE_MS),
    });
    token = await service.token('alice');
    await service.fund({ owner: 'alice', currency: 'KES' });

    faults();
    simulator.script({ forceOutcomes: { [transactionIdFor('alice', watched)]: 'lost' } });
    await pay(watched);
    const stream = await request(`${service.baseUrl}/v1/transactions/${watched}/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    closeStream = () => stream.body.destroy();
    void (async () => {
      for await (const chunk of stream.body) streamed += String(chunk);
    })().catch(() => undefined);
  });

  afterAll(async () => {
    closeStream?.();
    await service?.close();
    await simulator?.close();
  });

  async function pay(clientId: string): Promise<void> {
    const response = await service.call('POST', '/v1/transactions', {
      token,
      body: { id: clientId, amount: 100, currency: 'KES', recipient: 'bob' },
    });
    expect(response.status).toBe(202);
  }
  const payMany = (count: number) =>
    Promise.all(Array.from({ length: count }, () => pay(`health-${++submitted}`)));

  const providerStatus = async () =>
    (await service.call('GET', '/v1/provider/status', { token })).body as Status;
  const view = async (clientId: string) =>
    (await service.call('GET', `/v1/transactions/${clientId}`, { token })).body as View;

  /** The `event: provider` data the watched transaction's stream carried, in order. */
  const streamedNotices = () =>
    streamed
      .split('\n\n')
      .filter((block) => block.startsWith('event: provider'))
      .map((block) => (JSON.parse(block.split('\ndata: ')[1]) as Notice | null)?.code ?? null);
  const streamShows = (code: string | null) =>
    until(
      () => Promise.resolve(streamedNotices()),
      (codes) => codes.includes(code),
    );

  /** The status route reaches `state`; the watched pending transaction's view says the same. */
  async function expectState(state: string): Promise<Status> {
    const status = await until(providerStatus, (s) => s.state === state);
    if (status.state !== state) expect(status.state).toBe(state);
    const pending = await view(watched);
    expect(pending.status).toBe('PENDING');
    expect(pending.providerNotice).toEqual(status.notice);
    return status;
  }

  it('says slow during a slow period: answers come, but late', async () => {
    faults({ fault: 'slowPeriods', forSeconds: 100_000, answerSeconds: SLOW_ANSWER_SECONDS });
    await payMany(5);
    const status = await expectState('slow');
    expect(status.notice?.code).toBe('provider_slow');
    expect(status.recent.answerLatencyP90Ms).toBeGreaterThanOrEqual(SLOW_P90_MS);
    expect(await streamShows('provider_slow')).toContain('provider_slow');
  });

  it('says degraded during a 504 storm', async () => {
    faults({ fault: 'gatewayTimeouts', forSeconds: 100_000 });
    await payMany(6);
    const status = await expectState('degraded');
    expect(status.notice?.code).toBe('provider_degraded');
    expect(status.recent.gatewayTimeoutShare).toBeGreaterThanOrEqual(0.3);
    expect(await streamShows('provider_degraded')).toContain('provider_degraded');
  });

  it('says outage while the provider drops every connection, pushed with no new event', async () => {
    faults({ fault: 'outages', forSeconds: 100_000 });
    await payMany(3);
    const status = await expectState('outage');
    expect(status.notice?.code).toBe('provider_outage');
    expect(status.lastAnswerMsAgo).toBeGreaterThanOrEqual(OUTAGE_SILENCE_MS);
    expect(await streamShows('provider_outage')).toContain('provider_outage');
    // The dropped POSTs never reached the provider.
    const ids = simulator.truth().transactions.map((t) => t.id);
    expect(ids).not.toContain(transactionIdFor('alice', `health-${submitted}`));
  });

  it('is normal again once the provider recovers and the faults leave the window', async () => {
    faults();
    const status = await until(
      async () => {
        await payMany(1);
        return providerStatus();
      },
      (s) => s.state === 'normal',
      30_000,
    );
    expect(status.state).toBe('normal');
    expect(status.notice).toBeUndefined();
    const pending = await view(watched);
    expect(pending.status).toBe('PENDING');
    expect(pending.providerNotice).toBeUndefined();
    const codes = await streamShows(null);
    expect(codes.slice(codes.indexOf('provider_outage'))).toContain(null);
    expect(codes.indexOf('provider_slow')).toBeLessThan(codes.indexOf('provider_degraded'));
    expect(codes.indexOf('provider_degraded')).toBeLessThan(codes.lastIndexOf('provider_outage'));
  });
});
