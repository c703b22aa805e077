import { request } from 'undici';
import { fundAccount } from '../../bench/support/funding';
import { signingSecret } from '../../src/auth/signing-key';
import { issueToken } from '../../src/auth/token-issuer';
import { AppConfig } from '../../src/config/app-config';
import { startProviderSimulator } from '../../src/provider-simulator/provider-simulator';
import { transactionIdFor } from '../../src/transactions/transaction-id';
import { compressedServiceEnv } from './compressed-time';
import { freePort } from './service-harness';
import { ServiceProcess } from './service-process';

interface View {
  status: string;
  funds: string | null;
}

interface Account {
  currency: string;
  posted: number;
  pending: number;
}

const AMOUNT = 700;
/** What alice is funded with: every payment of the run and a little more, so each is held. */
const FUNDED = 24 * AMOUNT + 1_000;

/** The most of `times` (seconds, any order) that fall in any window (t - seconds, t]. */
function mostInAnyWindow(times: number[], seconds: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  sorted.forEach((time, last) => {
    while (sorted[first] <= time - seconds) first += 1;
    most = Math.max(most, last - first + 1);
  });
  return most;
}

/**
 * Less compressed than the other end-to-end tests, so that two processes' scheduling noise
 * rarely bunches checks into the provider's one-second window (here 50 ms). Rarely is not never
 * on a loaded machine: a ban costs a pause of its real length (Retry-After), not the run.
 */
const SCALE = 0.05;
/** The provider bans a caller above this many status checks in any provider second... */
export const PROVIDER_CHECKS_PER_SECOND = 3;
/**
 * ...and the instances together may check this often, with room for a check that leaves late
 * (its process blocked on a store); two unshared budgets would send twice that.
 */
const CHECKS_PER_SECOND = 1;
/** Provider seconds over which the budget's sharing is checked (half a real second here). */
const BUDGET_WINDOW_SECONDS = 10;
/** Late outcomes take the 120 provider-second window (6 s here) and the checks after it. */
export const KILL_SCENARIO_TIMEOUT_MS = 90_000;

export interface KillScenario {
  /** Starts two service processes on `stores`, kills one mid-flight, follows the survivor. */
  run(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Two real service processes on the same stores (`stores`: the environment that selects them)
 * must behave as one service: requests to either, one provider POST per attempt, one
 * status-check budget. The one holding the planner's lease is killed with SIGKILL while POSTs
 * are awaited and status checks run; the survivor must finish every transaction. Asserts against
 * the simulator's ground truth.
 */
export async function killOneOfTwoInstances(stores: Record<string, string>): Promise<KillScenario> {
  const simulator = await startProviderSimulator({
    timeScale: SCALE,
    seed: 11,
    // Slow answers (0.75 to 1.25 s real) so the kill lands while they are awaited.
    responseDelaySeconds: { min: 15, max: 25 },
    statusBudget: { requestsPerSecond: PROVIDER_CHECKS_PER_SECOND, banSeconds: 60 },
  });
  const env = {
    ...compressedServiceEnv(simulator.url, SCALE),
    ...stores,
    LOG_LEVEL: 'warn',
    STATUS_CHECK_RATE: String(CHECKS_PER_SECOND / SCALE),
    STATUS_CHECK_MIN_RATE: String(CHECKS_PER_SECOND / 10 / SCALE),
    PLANNER_LEASE_MS: '600',
  };
  const config = AppConfig.fromEnvironment({ ...env, PORT: '3000' });
  const token = await issueToken(config, signingSecret(config)!, {
    subject: 'alice',
    roles: [],
    expiresIn: '1h',
  });
  const operator = await issueToken(config, signingSecret(config)!, {
    subject: 'olga',
    roles: ['operator'],
    expiresIn: '1h',
  });
  const instances: ServiceProcess[] = [];

  async function call(
    instance: ServiceProcess,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ) {
    const response = await request(`${instance.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(method === 'GET' ? { prefer: 'wait=2' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.statusCode, body: (await response.body.json()) as View };
  }

  async function waitFor(condition: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await condition()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await condition()).toBe(true);
  }

  async function run(): Promise<void> {
    const ids = Array.from({ length: 24 }, (_, i) => `two-${i}`);
    const outcomes = ['ok-completed', 'ok-declined', 'late-completed', 'late-declined'] as const;
    simulator.script({
      forceOutcomes: Object.fromEntries(
        ids.map((id, i) => [transactionIdFor('alice', id), outcomes[i % outcomes.length]]),
      ),
      // No webhooks: only status checks, shared between the instances, tell the late outcomes.
      webhookBehaviour: Object.fromEntries(
        ids.map((id) => [transactionIdFor('alice', id), 'none']),
      ),
    });
    // The first one started holds the planner's lease: it is the one killed.
    const doomed = await ServiceProcess.start(env, await freePort());
    instances.push(doomed);
    const survivor = await ServiceProcess.start(env, await freePort());
    instances.push(survivor);
    await fundAccount(survivor.baseUrl, operator, {
      owner: 'alice',
      currency: 'KES',
      amount: FUNDED,
    });

    const accept = async (wave: string[]) => {
      const answers = await Promise.all(
        wave.map((id, i) =>
          call(i % 2 === 0 ? doomed : survivor, 'POST', '/v1/transactions', {
            id,
            amount: AMOUNT,
            currency: 'KES',
            recipient: 'bob',
          }),
        ),
      );
      expect(answers.map((response) => response.status)).toEqual(wave.map(() => 202));
    };
    const firstWave = ids.slice(0, ids.length / 2);
    const secondWave = ids.slice(ids.length / 2);

    // The first wave reaches status checks (its late outcomes answered 504)...
    await accept(firstWave);
    await waitFor(() => simulator.truth().totals.statusChecks.received > 0);
    // Both instances read what either accepted.
    expect((await call(survivor, 'GET', `/v1/transactions/${firstWave[0]}`)).status).toBe(200);
    expect((await call(doomed, 'GET', `/v1/transactions/${firstWave[1]}`)).status).toBe(200);
    // ...then the kill lands while the second wave's POSTs are still awaited.
    await accept(secondWave);
    await waitFor(() => simulator.truth().totals.submissions > firstWave.length);
    const before = simulator.truth();
    await doomed.kill();
    const unansweredAtKill = before.transactions.filter((t) =>
      t.submissions.some((s) => s.respondedAtSeconds === null),
    ).length;
    expect(unansweredAtKill).toBeGreaterThan(0);

    const settled = await Promise.all(
      ids.map(async (id) => {
        for (let i = 0; i < 40; i++) {
          const { body } = await call(survivor, 'GET', `/v1/transactions/${id}`);
          if (body.status !== 'PENDING') return body;
        }
        return (await call(survivor, 'GET', `/v1/transactions/${id}`)).body;
      }),
    );

    const truth = simulator.truth();
    expect(truth.totals.idsSubmittedMoreThanOnce).toBe(0);
    expect(truth.totals.idsSubmitted).toBe(ids.length);
    settled.forEach((view, i) => {
      const providerTruth = truth.transactions.find(
        (t) => t.id === transactionIdFor('alice', ids[i]),
      )!;
      expect(providerTruth.submissions).toHaveLength(1);
      const outcome = providerTruth.submissions[0].outcome;
      expect(outcome.kind).not.toBe('lost');
      if (outcome.kind !== 'lost') {
        expect([ids[i], view.status]).toEqual([
          ids[i],
          outcome.status === 'completed' ? 'SUCCEEDED' : 'FAILED',
        ]);
      }
    });
    // The money: every hold settled as its transaction ended, on the survivor's work.
    const succeeded = settled.filter((view) => view.status === 'SUCCEEDED').length;
    for (const id of ids) {
      await waitFor(async () => {
        const { body } = await call(survivor, 'GET', `/v1/transactions/${id}`);
        return body.funds === (body.status === 'SUCCEEDED' ? 'captured' : 'released');
      });
    }
    await waitFor(async () => {
      const { body } = await call(survivor, 'GET', '/v1/accounts');
      const kes = (body as unknown as { accounts: Account[] }).accounts.find(
        (account) => account.currency === 'KES',
      );
      return kes?.posted === FUNDED - succeeded * AMOUNT && kes.pending === 0;
    });

    // One budget for both. Counted where the provider counts, over windows long enough that a
    // check delayed on its way (a process stalled on a loaded machine) cannot decide the result:
    // the shared budget sends at most its rate plus its one stored token per window, and a few
    // late arrivals; two budgets of their own would send twice the rate.
    expect(truth.totals.statusChecks.received).toBeGreaterThan(0);
    const checkTimes = truth.transactions.flatMap((t) => t.statusChecks.atSeconds);
    expect(mostInAnyWindow(checkTimes, BUDGET_WINDOW_SECONDS)).toBeLessThanOrEqual(
      CHECKS_PER_SECOND * BUDGET_WINDOW_SECONDS + 1 + PROVIDER_CHECKS_PER_SECOND,
    );
  }

  return {
    run,
    close: async () => {
      await Promise.all(instances.map((instance) => instance.kill()));
      await simulator.close();
    },
  };
}
