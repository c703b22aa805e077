import type { ForcedOutcome } from '../provider-simulator/provider-simulator.options';
import { PaymentProvider } from './payment-provider.port';

/**
 * The behaviour every PaymentProvider adapter must show against the reference protocol
 * (docs/design.md), written against the port only. An adapter's spec calls
 * describePaymentProviderContract with a harness that opens its adapter in front of a provider
 * whose outcomes the tests force per id.
 */

/**
 * `compressed`: provider time may run as fast as the harness likes. `reference`: a provider second
 * lasts long enough for a test to act inside it (a real second over HTTP), for the two tests that
 * must act while the provider is still deciding or within its budget's one-second window.
 */
export type ProviderPace = 'compressed' | 'reference';

export interface OpenedPaymentProvider {
  provider: PaymentProvider;
  /** Forces the outcomes of an id's POSTs: one for every POST, or one per POST in order. */
  forceOutcomes(id: string, outcomes: ForcedOutcome | ForcedOutcome[]): void;
  /** What `operation` resolves to, letting provider time pass as it needs. */
  settle<T>(operation: Promise<T>): Promise<T>;
  /** Reads until `done` says so, letting provider time pass between reads; the last value read. */
  eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T>;
  /** The provider's status-check budget. */
  statusBudget: { requestsPerSecond: number; banSeconds: number };
  /** Closes the provider in front of the adapter, then the adapter. */
  close(): Promise<void>;
}

export interface PaymentProviderHarness {
  /**
   * Opens an adapter in front of a fresh provider. Its 200 answers come at the end of the
   * reference window (10 s) and its processed 504s appear at the end of theirs (120 s after the
   * POST), both inside the reference protocol, so a test can tell the phases apart.
   */
  open(pace: ProviderPace): Promise<OpenedPaymentProvider>;
}

const WEBHOOK_URL = 'http://127.0.0.1:1/webhooks/contract';

export function describePaymentProviderContract(
  adapterName: string,
  harness: PaymentProviderHarness,
): void {
  describe(`PaymentProvider contract: ${adapterName}`, () => {
    let opened: OpenedPaymentProvider | undefined;

    async function open(pace: ProviderPace = 'compressed'): Promise<OpenedPaymentProvider> {
      opened = await harness.open(pace);
      return opened;
    }

    afterEach(async () => {
      await opened?.close();
      opened = undefined;
    });

    it.each([['completed' as const], ['declined' as const]])(
      'takes a 200 as the final status (%s) and a later check as the same record',
      async (status) => {
        const { provider, forceOutcomes, settle } = await open();
        forceOutcomes('tx-ok', status === 'completed' ? 'ok-completed' : 'ok-declined');
        expect(
          await settle(
            provider.submit({ providerId: 'tx-ok', webhookUrl: WEBHOOK_URL, sendBy: Infinity }),
          ),
        ).toEqual({ kind: 'final', status });
        expect(await settle(provider.checkStatus('tx-ok', Infinity))).toEqual({
          kind: 'found',
          status,
        });
      },
    );

    it('never sends a submission past its send deadline: ambiguous (connection), and no record', async () => {
      const { provider, forceOutcomes, settle } = await open();
      forceOutcomes('tx-late-send', 'ok-completed');
      const outcome = await settle(
        provider.submit({ providerId: 'tx-late-send', webhookUrl: WEBHOOK_URL, sendBy: 0 }),
      );
      expect(outcome).toMatchObject({ kind: 'ambiguous', reason: 'connection' });
      expect(await settle(provider.checkStatus('tx-late-send', Infinity))).toEqual({
        kind: 'not_found',
      });
    });

    it('never sends a status check past its send deadline: not_sent, and the budget is untouched', async () => {
      const { provider, settle, statusBudget } = await open('reference');
      const late = Array.from({ length: 3 * statusBudget.requestsPerSecond }, (_, index) =>
        settle(provider.checkStatus(`tx-late-check-${index}`, 0)),
      );
      expect(await Promise.all(late)).toEqual(late.map(() => ({ kind: 'not_sent' })));
      // Three budgets' worth reaching the provider would have banned us.
      expect(await settle(provider.checkStatus('tx-late-check', Infinity))).toEqual({
        kind: 'not_found',
      });
    });

    it('takes a 504 as ambiguous, never a failure; a lost one stays not_found', async () => {
      const { provider, forceOutcomes, settle } = await open();
      forceOutcomes('tx-lost', 'lost');
      expect(
        await settle(
          provider.submit({ providerId: 'tx-lost', webhookUrl: WEBHOOK_URL, sendBy: Infinity }),
        ),
      ).toMatchObject({ kind: 'ambiguous', reason: 'gateway_timeout' });
      expect(await settle(provider.checkStatus('tx-lost', Infinity))).toEqual({
        kind: 'not_found',
      });
    });

    it('shows a processed 504 as not_found first, then found with its final status', async () => {
      const { provider, forceOutcomes, settle, eventually } = await open();
      forceOutcomes('tx-late', 'late-declined');
      expect(
        await settle(
          provider.submit({ providerId: 'tx-late', webhookUrl: WEBHOOK_URL, sendBy: Infinity }),
        ),
      ).toMatchObject({ kind: 'ambiguous', reason: 'gateway_timeout' });
      expect(await settle(provider.checkStatus('tx-late', Infinity))).toEqual({
        kind: 'not_found',
      });
      expect(
        await eventually(
          () => provider.checkStatus('tx-late', Infinity),
          (answer) => answer.kind !== 'not_found',
        ),
      ).toEqual({ kind: 'found', status: 'declined' });
    });

    it('draws anew on a second POST of one id: it overwrites the record', async () => {
      const { provider, forceOutcomes, settle } = await open();
      forceOutcomes('tx-twice', ['lost', 'ok-completed']);
      const submission = { providerId: 'tx-twice', webhookUrl: WEBHOOK_URL, sendBy: Infinity };
      expect(await settle(provider.submit(submission))).toMatchObject({
        kind: 'ambiguous',
        reason: 'gateway_timeout',
      });
      expect(await settle(provider.submit(submission))).toEqual({
        kind: 'final',
        status: 'completed',
      });
      expect(await settle(provider.checkStatus('tx-twice', Infinity))).toEqual({
        kind: 'found',
        status: 'completed',
      });
    });

    it('says pending to a check made while a 200 is still on its way', async () => {
      const { provider, forceOutcomes, eventually } = await open('reference');
      forceOutcomes('tx-pending', 'ok-completed');
      const answer = provider.submit({
        providerId: 'tx-pending',
        webhookUrl: WEBHOOK_URL,
        sendBy: Infinity,
      });
      expect(
        await eventually(
          () => provider.checkStatus('tx-pending', Infinity),
          (check) => check.kind !== 'not_found',
        ),
      ).toEqual({ kind: 'found', status: 'pending' });
      // Closing while the POST waits must still answer it, without a rejection.
      await opened?.close();
      opened = undefined;
      expect((await answer).kind).toMatch(/^(final|ambiguous)$/);
    });

    it('answers not_found for an id it never received', async () => {
      const { provider, settle } = await open();
      expect(await settle(provider.checkStatus('tx-never-submitted', Infinity))).toEqual({
        kind: 'not_found',
      });
    });

    it('answers rate_limited, with the ban as Retry-After, beyond its status budget', async () => {
      const { provider, settle, statusBudget } = await open('reference');
      const burst = Array.from({ length: 3 * statusBudget.requestsPerSecond }, (_, index) =>
        settle(provider.checkStatus(`tx-burst-${index}`, Infinity)),
      );
      const answers = await Promise.all(burst);
      expect(answers).toContainEqual({
        kind: 'rate_limited',
        retryAfterMs: statusBudget.banSeconds * 1000,
      });
      expect(answers.filter((answer) => answer.kind === 'not_found').length).toBeLessThanOrEqual(
        statusBudget.requestsPerSecond,
      );
      // Banned: the next check is refused too.
      expect(await settle(provider.checkStatus('tx-after-ban', Infinity))).toMatchObject({
        kind: 'rate_limited',
      });
    });

    it('never rejects, even once closed', async () => {
      const { provider } = await open();
      await opened?.close();
      opened = undefined;
      expect(
        await provider.submit({
          providerId: 'tx-closed',
          webhookUrl: WEBHOOK_URL,
          sendBy: Infinity,
        }),
      ).toMatchObject({ kind: 'ambiguous', reason: 'connection' });
      expect(await provider.checkStatus('tx-closed', Infinity)).toMatchObject({ kind: 'error' });
    });
  });
}
