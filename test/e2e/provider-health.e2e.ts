import { request } from 'undici';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
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
  recent: { submissions: number; gatewayTimeoutShare: number };
}
interface View {
  status: string;
  expectedBy?: string | null;
  providerNotice?: Notice;
}

/**
 * The provider's health as the customer sees it, driven by the simulator's scripted outcomes in
 * compressed time: calm, then a storm of 504s, then calm again.
 */
describe('provider health (simulator, compressed time)', () => {
  let simulator: RunningProviderSimulator;
  let service: ServiceHarness;
  let token: string;
  let submitted = 0;

  beforeAll(async () => {
    simulator = await startProviderSimulator({ timeScale: SCALE, seed: 20261205 });
    service = await ServiceHarness.start({
      ...compressedServiceEnv(simulator.url),
      PROVIDER_HEALTH_MIN_SUBMISSIONS: '4',
      // Short windows, so the storm leaves them within the test; no outage: this is a 504 storm.
      PROVIDER_HEALTH_SHORT_WINDOW_MS: '4000',
      PROVIDER_HEALTH_LONG_WINDOW_MS: '60000',
      PROVIDER_HEALTH_OUTAGE_SILENCE_MS: '600000',
    });
    token = await service.token('alice');
    await service.fund({ owner: 'alice', currency: 'KES' });
  });

  afterAll(async () => {
    await service?.close();
    await simulator?.close();
  });

  async function submit(outcome: 'ok-completed' | 'lost'): Promise<string> {
    const clientId = `health-${++submitted}`;
    simulator.script({ forceOutcomes: { [transactionIdFor('alice', clientId)]: outcome } });
    const response = await service.call('POST', '/v1/transactions', {
      token,
      body: { id: clientId, amount: 100, currency: 'KES', recipient: 'bob' },
      headers: outcome === 'ok-completed' ? { prefer: 'wait=5' } : {},
    });
    expect([200, 202]).toContain(response.status);
    return clientId;
  }

  const providerStatus = async () =>
    (await service.call('GET', '/v1/provider/status', { token })).body as Status;
  const view = async (clientId: string) =>
    (await service.call('GET', `/v1/transactions/${clientId}`, { token })).body as View;

  it('is normal while the provider answers, with no notice', async () => {
    for (let i = 0; i < 4; i++) await submit('ok-completed');
    const status = await until(providerStatus, (s) => s.recent.submissions >= 4);
    expect(status.state).toBe('normal');
    expect(status.notice).toBeUndefined();
  });

  it('says degraded during a 504 storm: the status route, the view and the SSE stream', async () => {
    const watched = await submit('lost');
    const stream = await request(`${service.baseUrl}/v1/transactions/${watched}/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    let streamed = '';
    const providerEventSeen = (async () => {
      for await (const chunk of stream.body) {
        streamed += String(chunk);
        if (streamed.includes('event: provider')) return;
      }
    })();
    for (let i = 0; i < 4; i++) await submit('lost');

    const status = await until(providerStatus, (s) => s.state !== 'normal');
    expect(status.state).toBe('degraded');
    expect(status.notice?.code).toBe('provider_degraded');
    expect(status.recent.gatewayTimeoutShare).toBeGreaterThanOrEqual(0.3);

    const pending = await view(watched);
    expect(pending.status).toBe('PENDING');
    expect(pending.providerNotice).toEqual(status.notice);
    expect(pending.expectedBy).toEqual(expect.any(String));

    await providerEventSeen;
    stream.body.destroy();
    const providerEvent = streamed
      .split('\n\n')
      .find((block) => block.startsWith('event: provider'));
    expect(JSON.parse(providerEvent!.split('\ndata: ')[1])).toMatchObject({
      code: 'provider_degraded',
    });
  });

  it('is normal again once the storm has left the window and answers come quickly', async () => {
    const status = await until(
      async () => {
        await submit('ok-completed');
        return providerStatus();
      },
      (s) => s.state === 'normal',
      30_000,
    );
    expect(status.state).toBe('normal');
    expect(status.notice).toBeUndefined();
    const calm = await submit('ok-completed');
    expect((await view(calm)).providerNotice).toBeUndefined();
  });
});
