/**
 * The money steps of the process manager against a real SQLite event store, at each point a
 * crash can leave them: the worker finishes or undoes whatever the request route left half-done,
 * and never calls the provider before the hold is recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountStreamName } from '../../accounts/account-id';
import { AccountStreams } from '../../accounts/account-streams';
import type { OpenAccount } from '../../accounts/account.state';
import { AppConfig } from '../../config/app-config';
import { SettableClock } from '../../event-store/event-store.contract';
import { SqliteEventStore } from '../../event-store/sqlite/sqlite-event-store';
import {
  PaymentProvider,
  StatusCheckOutcome,
  Submission,
  SubmissionOutcome,
} from '../../provider/payment-provider.port';
import { WebhookUrls } from '../../provider-webhooks/webhook-urls';
import { MathRandom, SeededRandom } from '../../shared/random';
import { TransactionFunds } from '../../transactions/transaction-funds';
import { TransactionStreams } from '../../transactions/transaction-streams';
import type { TransactionState } from '../../transactions/transaction.state';
import type { ClaimedWork, WorkKind } from '../work-queue.port';
import { SettleHandler } from './settle.handler';
import { SubmitHandler } from './submit.handler';
import { CryptoIds } from '../../shared/ids';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const CONTEXT = { correlationId: 'req-1', causationId: 'req-1', actor: 'customer:alice' };

/** Answers every submission with a fixed outcome and remembers what it was sent. */
class RecordingProvider extends PaymentProvider {
  readonly submitted: string[] = [];
  constructor(private readonly outcome: SubmissionOutcome) {
    super();
  }
  submit(submission: Submission): Promise<SubmissionOutcome> {
    this.submitted.push(submission.providerId);
    return Promise.resolve(this.outcome);
  }
  checkStatus(): Promise<StatusCheckOutcome> {
    return Promise.resolve({ kind: 'not_found' });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('the money steps of the process manager', () => {
  let dir: string;
  let eventStore: SqliteEventStore;
  let clock: SettableClock;
  let config: AppConfig;
  let streams: TransactionStreams;
  let accounts: AccountStreams;
  let funds: TransactionFunds;
  let provider: RecordingProvider;
  let submit: SubmitHandler;
  let settle: SettleHandler;
  let transactionId: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'funds-steps-'));
    clock = new SettableClock(T0);
    config = AppConfig.fromEnvironment({ DATA_DIR: dir, RECONCILIATION_DEADLINE_MS: '900000' });
    eventStore = new SqliteEventStore({ path: join(dir, 'events.sqlite'), clock });
    streams = new TransactionStreams(eventStore, new CryptoIds());
    accounts = new AccountStreams(eventStore, new MathRandom(), new CryptoIds());
    funds = new TransactionFunds(accounts, streams, clock, config);
    answerSubmissionsWith({ kind: 'final', status: 'completed' });
    settle = new SettleHandler(streams, accounts, clock, config);
  });

  afterEach(async () => {
    await eventStore.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The provider answers every submission so, and the submit step calls it. */
  function answerSubmissionsWith(outcome: SubmissionOutcome): void {
    provider = new RecordingProvider(outcome);
    submit = new SubmitHandler(
      streams,
      funds,
      provider,
      new WebhookUrls(config),
      clock,
      new SeededRandom(1),
      config,
    );
  }

  const work = (kind: WorkKind, payload: Record<string, unknown> = {}): ClaimedWork => ({
    transactionId,
    kind,
    dueAt: clock.now().getTime(),
    payload,
    version: 1,
    leaseOwner: 'test',
    leaseUntil: clock.now().getTime() + 30_000,
  });

  async function deposit(amount: number): Promise<void> {
    await accounts.handle(
      {
        type: 'Deposit',
        owner: 'alice',
        currency: 'KES',
        depositId: `d-${amount}`,
        amount,
        reference: 'wire',
        at: clock.now().toISOString(),
      },
      CONTEXT,
    );
  }

  /** The request route's first step only: a crash came before the hold. */
  async function requestOnly(amount: number): Promise<void> {
    transactionId = `00000000-0000-4000-8000-00000000000${amount % 10}`;
    await streams.handle(
      transactionId,
      {
        type: 'RequestTransaction',
        transactionId,
        owner: 'alice',
        clientId: `order-${amount}`,
        request: { amount, currency: 'KES', recipient: 'bob', note: null },
        requestedAt: clock.now().toISOString(),
      },
      CONTEXT,
    );
  }

  async function transaction(): Promise<TransactionState> {
    return (await streams.load(transactionId)).state;
  }

  async function account(): Promise<OpenAccount> {
    const { state } = await accounts.load('alice', 'KES');
    if (!state.opened) throw new Error('no account');
    return state;
  }

  const typesOf = async () =>
    (await eventStore.readStream(`transaction-${transactionId}`)).map((event) => event.type);

  it('after a crash before the hold: the submit step places it, records it with the submission, then calls the provider once', async () => {
    await deposit(5_000);
    await requestOnly(2_501);

    await submit.perform(work('submit', { attempt: 1 }));

    expect(provider.submitted).toEqual([transactionId]);
    expect(await typesOf()).toEqual([
      'TransactionRequested',
      'FundsReserved',
      'ProviderSubmissionStarted',
      'StatusConfirmed',
    ]);
    expect(await account()).toMatchObject({ posted: 5_000, pending: 2_501 });
  });

  it('after a crash before the hold, on an account that does not cover it: the transaction fails and the provider is never called', async () => {
    await deposit(1_000);
    await requestOnly(2_502);

    await submit.perform(work('submit', { attempt: 1 }));

    expect(provider.submitted).toEqual([]);
    expect(await transaction()).toMatchObject({
      status: 'FAILED',
      failureReason: 'insufficient_funds',
      funds: 'refused',
    });
    expect(await account()).toMatchObject({ posted: 1_000, pending: 0 });
  });

  it('after a crash between the hold and its record: the submit step finds the hold, places no second one, and submits once', async () => {
    await deposit(5_000);
    await requestOnly(2_503);
    const state = await transaction();
    if (!state.exists) throw new Error('not requested');
    await funds.hold(state, CONTEXT);

    await submit.perform(work('submit', { attempt: 1 }));
    await submit.perform(work('submit', { attempt: 1 }));

    expect(provider.submitted).toEqual([transactionId]);
    expect(await account()).toMatchObject({ pending: 2_503 });
    const holds = (await eventStore.readStream(accountStreamName('alice', 'KES'))).filter(
      (event) => event.type === 'FundsHeld',
    );
    expect(holds).toHaveLength(1);
  });

  it('a worker that stalls between its intent and the POST past the send deadline does not send: the attempt is recorded interrupted', async () => {
    await deposit(5_000);
    await requestOnly(2_506);
    // The intent's append returns after the process stalled (overloaded or paused) for longer
    // than the send window: its lease may have expired and another worker counted from then.
    const stallingStore = Object.create(eventStore) as SqliteEventStore;
    stallingStore.appendToStream = async (streamName, events, options) => {
      const result = await eventStore.appendToStream(streamName, events, options);
      if (events.some((event) => event.type === 'ProviderSubmissionStarted')) {
        clock.set(new Date(clock.now().getTime() + config.provider.policy.sendWindowMs + 1));
      }
      return result;
    };
    const stalledStreams = new TransactionStreams(stallingStore, new CryptoIds());
    const stalled = new SubmitHandler(
      stalledStreams,
      new TransactionFunds(accounts, stalledStreams, clock, config),
      provider,
      new WebhookUrls(config),
      clock,
      new SeededRandom(1),
      config,
    );

    await stalled.perform(work('submit', { attempt: 1 }));

    expect(provider.submitted).toEqual([]);
    const state = await transaction();
    expect(state).toMatchObject({ status: 'PENDING', stage: 'checking' });
    if (!state.exists) throw new Error('not requested');
    expect(state.attempts).toMatchObject([{ number: 1, outcome: 'ambiguous' }]);
  });

  it('settles a SUCCEEDED payment by posting its hold, and a second run (a crash after the post) only records what is missing', async () => {
    await deposit(5_000);
    await requestOnly(2_504);
    await submit.perform(work('submit', { attempt: 1 }));

    await settle.perform(work('settle'));
    expect(await account()).toMatchObject({ posted: 2_496, pending: 0 });
    expect(await transaction()).toMatchObject({ status: 'SUCCEEDED', funds: 'captured' });

    const before = await typesOf();
    await settle.perform(work('settle'));
    expect(await typesOf()).toEqual(before);
    expect(await account()).toMatchObject({ posted: 2_496, pending: 0 });
  });

  it('settles a FAILED payment by voiding its hold', async () => {
    answerSubmissionsWith({ kind: 'final', status: 'declined' });
    await deposit(5_000);
    await requestOnly(2_505);
    await submit.perform(work('submit', { attempt: 1 }));

    await settle.perform(work('settle'));

    expect(await account()).toMatchObject({ posted: 5_000, pending: 0 });
    expect(await transaction()).toMatchObject({ status: 'FAILED', funds: 'released' });
  });

  describe('at the hold expiry', () => {
    const ttl = () => config.provider.holdTtlMs;

    it('before it, waits for it', async () => {
      await deposit(5_000);
      await requestOnly(2_506);
      expect(await settle.perform(work('settle'))).toEqual({ retryAt: T0.getTime() + ttl() });
      expect(await transaction()).toMatchObject({ status: 'PENDING' });
    });

    it('fails a transaction never submitted and releases its hold as expired', async () => {
      await deposit(5_000);
      await requestOnly(2_507);
      const state = await transaction();
      if (!state.exists) throw new Error('not requested');
      await funds.hold(state, CONTEXT);
      clock.set(new Date(T0.getTime() + ttl()));

      await settle.perform(work('settle'));
      expect(await transaction()).toMatchObject({
        status: 'FAILED',
        failureReason: 'hold_expired',
      });
      // The final status plans the settlement; run it as the worker would.
      await settle.perform(work('settle'));

      const voided = (await eventStore.readStream(accountStreamName('alice', 'KES')))
        .filter((event) => event.type === 'HoldVoided')
        .map((event) => event.data.reason);
      expect(voided).toEqual(['expired']);
      expect(await account()).toMatchObject({ posted: 5_000, pending: 0 });
      expect(await transaction()).toMatchObject({ funds: 'released' });
    });

    it('keeps the hold of a payment that may be with the provider', async () => {
      answerSubmissionsWith({ kind: 'pending' });
      await deposit(5_000);
      await requestOnly(2_508);
      await submit.perform(work('submit', { attempt: 1 }));
      clock.set(new Date(T0.getTime() + ttl() + 1));

      expect(await settle.perform(work('settle'))).toBe(true);

      expect(await transaction()).toMatchObject({ status: 'PENDING', funds: 'held' });
      expect(await account()).toMatchObject({ pending: 2_508 });
    });
  });
});
