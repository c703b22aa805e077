import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { fundAccount } from '../../bench/support/funding';
import { signingSecret } from '../../src/auth/signing-key';
import { issueToken } from '../../src/auth/token-issuer';
import { AppConfig } from '../../src/config/app-config';
import {
  RunningProviderSimulator,
  startProviderSimulator,
} from '../../src/provider-simulator/provider-simulator';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { SCALE, compressedServiceEnv } from '../support/compressed-time';
import { freePort } from '../support/service-harness';
import { ServiceProcess } from '../support/service-process';

interface View {
  status: string;
  attempts: number;
  finalStatusSource: string | null;
}

/** The built service as real processes: killed with SIGKILL mid-submission, then restarted. */
describe('a service killed in the middle of submissions', () => {
  let simulator: RunningProviderSimulator;
  let dataDir: string;
  let port: number;
  let env: Record<string, string>;
  let token: string;
  let operator: string;
  let service: ServiceProcess | null = null;

  beforeAll(async () => {
    simulator = await startProviderSimulator({
      timeScale: SCALE,
      seed: 7,
      // Slow answers (0.3 to 0.5 s real) so the kill lands while they are awaited.
      responseDelaySeconds: { min: 15, max: 25 },
    });
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-crash-'));
    port = await freePort();
    env = { ...compressedServiceEnv(simulator.url), DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    const config = AppConfig.fromEnvironment({ ...env, PORT: String(port) });
    token = await issueToken(config, signingSecret(config)!, {
      subject: 'alice',
      roles: [],
      expiresIn: '1h',
    });
    operator = await issueToken(config, signingSecret(config)!, {
      subject: 'olga',
      roles: ['operator'],
      expiresIn: '1h',
    });
  });

  afterAll(async () => {
    await service?.kill();
    await simulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function call(method: 'GET' | 'POST', path: string, body?: unknown, prefer?: string) {
    const response = await request(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(prefer ? { prefer } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.statusCode, body: (await response.body.json()) as View };
  }

  it('finishes every transaction after a restart, without a second POST for any attempt', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `crash-${i}`);
    const outcomes = ['ok-completed', 'ok-declined', 'late-completed'] as const;
    simulator.script({
      forceOutcomes: Object.fromEntries(
        ids.map((id, i) => [transactionIdFor('alice', id), outcomes[i % outcomes.length]]),
      ),
      // No webhooks: after the crash only status checks can tell the outcome.
      webhookBehaviour: Object.fromEntries(
        ids.map((id) => [transactionIdFor('alice', id), 'none']),
      ),
    });

    service = await ServiceProcess.start(env, port);
    await fundAccount(service.baseUrl, operator, { owner: 'alice', currency: 'KES' });
    for (const id of ids) {
      const accepted = await call('POST', '/v1/transactions', {
        id,
        amount: 700,
        currency: 'KES',
        recipient: 'bob',
      });
      expect(accepted.status).toBe(202);
    }
    // Kill as soon as the provider has every POST in hand and none has been answered yet.
    const until = Date.now() + 10_000;
    while (simulator.truth().totals.submissions < ids.length && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const answeredBeforeKill = simulator
      .truth()
      .transactions.filter((t) => t.submissions.some((s) => s.respondedAtSeconds !== null)).length;
    await service.kill();
    expect(answeredBeforeKill).toBeLessThan(ids.length);

    service = await ServiceProcess.start(env, port);
    const settled = await Promise.all(
      ids.map(async (id) => {
        for (let i = 0; i < 20; i++) {
          const { body } = await call('GET', `/v1/transactions/${id}`, undefined, 'wait=2');
          if (body.status !== 'PENDING') return body;
        }
        return (await call('GET', `/v1/transactions/${id}`)).body;
      }),
    );

    const truth = simulator.truth();
    expect(truth.totals.idsSubmittedMoreThanOnce).toBe(0);
    settled.forEach((view, i) => {
      const providerTruth = truth.transactions.find(
        (t) => t.id === transactionIdFor('alice', ids[i]),
      )!;
      expect(providerTruth.submissions).toHaveLength(1);
      expect(view.attempts).toBe(1);
      const outcome = providerTruth.submissions[0].outcome;
      expect(outcome.kind).not.toBe('lost');
      if (outcome.kind !== 'lost') {
        expect(view.status).toBe(outcome.status === 'completed' ? 'SUCCEEDED' : 'FAILED');
      }
    });
    // Those whose answer died with the first process were learned by a status check.
    expect(settled.some((view) => view.finalStatusSource === 'status_check')).toBe(true);
    expect(truth.totals.statusChecks.rejected).toBe(0);
  });

  it('stops gracefully on SIGTERM and starts again on the same data', async () => {
    // Exit code 0 only once app.close() finished: requests drained, stores closed.
    expect(await service!.terminate()).toBe(0);
    service = await ServiceProcess.start(env, port);
    const again = await call('GET', '/v1/transactions/crash-0');
    expect(again.status).toBe(200);
  });
});
