import { accountStreamName } from '../accounts/account-id';
import { legsOf } from '../accounts/account-legs';
import { ACCOUNT_SCHEMA_VERSION } from '../accounts/account-streams';
import type { AccountEvent } from '../accounts/account.events';
import type { RecordedEvent } from '../event-store/event-store.port';
import { chainHash } from '../event-store/hash-chain';
import { streamNameFor, transactionIdFor } from '../transactions/transaction-id';
import type { TransactionEvent } from '../transactions/transaction.events';
import { fold } from '../transactions/transaction.state';
import {
  AccountAudit,
  AuditedTransaction,
  auditAccountEvent,
  checkFunds,
  currencyTotals,
  startAccountAudit,
} from './money-audit';

const AT = '2026-12-05T10:00:00.000Z';
const ALICE_KES = accountStreamName('alice', 'KES');

/** An account stream as the store writes it: revisions from 0, each hash chained. */
function stored(events: AccountEvent[], streamName = ALICE_KES): RecordedEvent[] {
  const recorded: RecordedEvent[] = [];
  for (const [index, event] of events.entries()) {
    const content = {
      id: `event-${index}`,
      streamName,
      revision: BigInt(index),
      type: event.type,
      data: { ...event.data },
      metadata: {
        correlationId: 'request-1',
        causationId: 'request-1',
        actor: 'operator:olga',
        schemaVersion: ACCOUNT_SCHEMA_VERSION,
        recordedAt: AT,
      },
      previousHash: recorded.at(-1)?.hash ?? null,
    };
    recorded.push({ ...content, position: 100n + BigInt(index), hash: chainHash(content) });
  }
  return recorded;
}

function audit(events: AccountEvent[], streamName = ALICE_KES): AccountAudit {
  return stored(events, streamName).reduce(
    (account, event) => auditAccountEvent(account, event),
    startAccountAudit(streamName),
  );
}

const opened = (owner = 'alice', currency = 'KES'): AccountEvent => ({
  type: 'AccountOpened',
  data: { owner, currency, openedAt: AT },
});
const deposited = (amount: number, depositId = 'd1'): AccountEvent => ({
  type: 'FundsDeposited',
  data: { depositId, amount, reference: 'wire', at: AT },
});
const overdraft = (limit: number): AccountEvent => ({
  type: 'OverdraftLimitSet',
  data: { changeId: `c${limit}`, limit, at: AT },
});
const held = (holdId: string, amount: number): AccountEvent => ({
  type: 'FundsHeld',
  data: { holdId, amount, expiresAt: AT, at: AT },
});
const refused = (holdId: string, amount: number, available: number): AccountEvent => ({
  type: 'HoldRefused',
  data: { holdId, amount, reason: 'insufficient_funds', available, at: AT },
});
const posted = (holdId: string, amount: number): AccountEvent => ({
  type: 'HoldPosted',
  data: { holdId, amount, at: AT },
});
const voided = (holdId: string, amount: number): AccountEvent => ({
  type: 'HoldVoided',
  data: { holdId, amount, reason: 'transaction_failed', at: AT },
});
const refunded = (holdId: string, amount: number): AccountEvent => ({
  type: 'PostedHoldRefunded',
  data: { holdId, amount, reason: 'resolved_by_support', at: AT },
});
const postedAfterAll = (holdId: string, amount: number): AccountEvent => ({
  type: 'VoidedHoldPosted',
  data: { holdId, amount, reason: 'resolved_by_support', at: AT },
});

describe('auditAccountEvent', () => {
  it('given a consistent account, finds nothing and sums the system legs', () => {
    const account = audit([
      opened(),
      deposited(1000),
      overdraft(50),
      held('h1', 300),
      held('h2', 200),
      refused('h3', 900, 550),
      held('h4', 550),
      posted('h1', 300),
      voided('h2', 200),
      refunded('h1', 300),
      postedAfterAll('h2', 200),
    ]);

    expect(account.differences).toEqual([]);
    expect(account.exemptions).toEqual([]);
    expect(account.funding).toEqual({ posted: -1000 });
    // h1 posted then refunded, h2 voided then posted after all, h4 still held.
    expect(account.clearing).toEqual({ posted: 200, pending: 550 });
    expect(account.state).toMatchObject({ posted: 800, pending: 550 });
  });

  it('lets a hold take available exactly to 0, overdraft included', () => {
    const account = audit([opened(), deposited(100), overdraft(50), held('h1', 150)]);
    expect(account.differences).toEqual([]);
  });

  it('given a FundsHeld beyond available, names its revision and the balance it had', () => {
    const account = audit([opened(), deposited(100), overdraft(50), held('h1', 151)]);
    expect(account.differences).toEqual([
      {
        streamName: ALICE_KES,
        field: 'available@3',
        expected: 'at least 151 for FundsHeld',
        actual: 150,
      },
    ]);
  });

  it('given a HoldRefused recording another balance than the replayed one, reports both', () => {
    const account = audit([opened(), deposited(100), refused('h1', 500, 90)]);
    expect(account.differences).toEqual([
      { streamName: ALICE_KES, field: 'HoldRefused.available@2', expected: 100, actual: 90 },
    ]);
  });

  it('given a HoldRefused the balance covered, reports it', () => {
    const account = audit([opened(), deposited(100), refused('h1', 100, 100)]);
    expect(account.differences).toEqual([
      {
        streamName: ALICE_KES,
        field: 'HoldRefused.amount@2',
        expected: 'more than available 100',
        actual: 100,
      },
    ]);
  });

  it('exempts a VoidedHoldPosted below the overdraft and reports it separately', () => {
    const account = audit([
      opened(),
      deposited(100),
      held('h1', 100),
      voided('h1', 100),
      held('h2', 80),
      postedAfterAll('h1', 100),
    ]);
    expect(account.differences).toEqual([]);
    expect(account.exemptions).toEqual([
      { streamName: ALICE_KES, revision: 5n, holdId: 'h1', amount: 100, availableAfter: -80 },
    ]);
  });

  it('given a post of a hold never held, reports the hold and that the account cannot be folded past it', () => {
    const account = audit([opened(), deposited(500), posted('h9', 100)]);
    expect(account.differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ streamName: ALICE_KES, field: 'hold:h9@2', actual: 'no hold' }),
        expect.objectContaining({
          streamName: ALICE_KES,
          field: 'data@2',
          actual: 'HoldPosted of unknown hold h9',
        }),
      ]),
    );
  });

  it.each([
    [
      'a second post of one hold',
      [held('h1', 100), posted('h1', 100), posted('h1', 100)],
      'hold:h1@4',
      'a posted hold of 100',
    ],
    [
      'a post for another amount',
      [held('h1', 100), posted('h1', 60)],
      'hold:h1@3',
      'a held hold of 100',
    ],
    [
      'a void of a posted hold',
      [held('h1', 100), posted('h1', 100), voided('h1', 100)],
      'hold:h1@4',
      'a posted hold of 100',
    ],
    ['a hold id used twice', [held('h1', 100), held('h1', 50)], 'hold:h1@3', 'a held hold of 100'],
    [
      'a refund of a hold never posted',
      [held('h1', 100), refunded('h1', 100)],
      'hold:h1@3',
      'a held hold of 100',
    ],
    [
      'a late post of a refused hold',
      [refused('h1', 900, 500), postedAfterAll('h1', 900)],
      'hold:h1@3',
      'a refused hold of 900',
    ],
  ])('given %s, reports the hold as it was', (_case, events, field, actual) => {
    const account = audit([opened(), deposited(500), ...events]);
    expect(account.differences).toEqual([
      expect.objectContaining({ streamName: ALICE_KES, field, actual }),
    ]);
  });

  it.each([
    ['the funding side of a deposit', 'FundsDeposited', 'sum.posted@1', 100],
    ['the clearing side of a void', 'HoldVoided', 'sum.pending@3', 100],
  ])(
    'proves the legs table against the fold: a table that loses %s breaks the sum',
    (_case, brokenType, field, actual) => {
      const losingOtherLeg = (event: AccountEvent) =>
        event.type === brokenType
          ? legsOf(event).filter((leg) => leg.account === 'customer')
          : legsOf(event);
      const account = stored([opened(), deposited(100), held('h1', 100), voided('h1', 100)]).reduce(
        (state, event) => auditAccountEvent(state, event, losingOtherLeg),
        startAccountAudit(ALICE_KES),
      );
      expect(account.differences).toEqual([{ streamName: ALICE_KES, field, expected: 0, actual }]);
    },
  );

  it('given an amount that is not a positive integer, reports it and moves nothing', () => {
    const account = audit([opened(), deposited(-100)]);
    expect(account.differences).toEqual([
      {
        streamName: ALICE_KES,
        field: 'data.amount@1',
        expected: 'a positive safe integer',
        actual: -100,
      },
    ]);
    expect(account.funding).toEqual({ posted: 0 });
  });

  it('given an event changed after it was written, names its hash', () => {
    const events = stored([opened(), deposited(100)]);
    events[1] = { ...events[1], data: { ...events[1].data, amount: 1_000_000 } };
    const account = events.reduce(
      (state, event) => auditAccountEvent(state, event),
      startAccountAudit(ALICE_KES),
    );
    expect(account.differences).toEqual([
      expect.objectContaining({ field: 'hash@1', actual: events[1].hash }),
    ]);
  });

  it('given an account opened in a stream not named after its owner and currency, says so', () => {
    const account = audit([opened('bob', 'KES')]);
    expect(account.differences).toEqual([
      {
        streamName: ALICE_KES,
        field: 'name',
        expected: accountStreamName('bob', 'KES'),
        actual: ALICE_KES,
      },
    ]);
  });

  it('given an event this version cannot read, reports it', () => {
    const conjured = { type: 'FundsConjured', data: { amount: 100 } } as unknown as AccountEvent;
    const account = audit([opened(), conjured]);
    expect(account.differences).toEqual([
      expect.objectContaining({ field: 'data@1', expected: 'readable by this version' }),
    ]);
    expect(account.funding).toEqual({ posted: 0 });
  });
});

describe('currencyTotals', () => {
  it('adds up each currency apart; posted and pending each sum to zero', () => {
    const totals = currencyTotals([
      audit([opened(), deposited(1000), held('h1', 300), posted('h1', 300), held('h2', 100)]),
      audit([opened('bob', 'KES'), deposited(400)], accountStreamName('bob', 'KES')),
      audit(
        [opened('bob', 'UGX'), deposited(7000), held('h3', 700)],
        accountStreamName('bob', 'UGX'),
      ),
    ]);
    expect(totals).toEqual([
      {
        currency: 'KES',
        accounts: 2,
        customers: { posted: 1100, pending: -100 },
        funding: { posted: -1400 },
        clearing: { posted: 300, pending: 100 },
      },
      {
        currency: 'UGX',
        accounts: 1,
        customers: { posted: 7000, pending: -700 },
        funding: { posted: -7000 },
        clearing: { posted: 0, pending: 700 },
      },
    ]);
  });
});

describe('checkFunds', () => {
  const NOW = new Date('2026-12-05T11:00:00.000Z');

  function transaction(
    clientId: string,
    amount: number,
    ...outcome: TransactionEvent[]
  ): AuditedTransaction {
    const transactionId = transactionIdFor('alice', clientId);
    const requested: TransactionEvent = {
      type: 'TransactionRequested',
      data: {
        transactionId,
        owner: 'alice',
        clientId,
        amount,
        currency: 'KES',
        recipient: '+254700000001',
        note: null,
        requestedAt: AT,
      },
    };
    return { streamName: streamNameFor(transactionId), state: fold([requested, ...outcome]) };
  }

  const confirmed = (status: 'SUCCEEDED' | 'FAILED', reason: string | null = null) =>
    ({
      type: 'StatusConfirmed',
      data: { status, source: 'submission', providerStatus: null, reason, at: AT },
    }) as TransactionEvent;

  const holdOf = (clientId: string) => transactionIdFor('alice', clientId);

  function fundsOf(transactions: AuditedTransaction[], ...events: AccountEvent[]) {
    return checkFunds(transactions, [audit([opened(), deposited(10_000), ...events])], NOW);
  }

  it('finds nothing when every hold is settled as its transaction ended', () => {
    const found = fundsOf(
      [
        transaction('paid', 100, confirmed('SUCCEEDED')),
        transaction('declined', 200, confirmed('FAILED', 'declined')),
        transaction('broke', 20_000, confirmed('FAILED', 'insufficient_funds')),
        transaction('waiting', 300),
        transaction('fresh', 400),
        transaction('never-held', 500, confirmed('FAILED', 'declined')),
      ],
      held(holdOf('paid'), 100),
      posted(holdOf('paid'), 100),
      held(holdOf('declined'), 200),
      voided(holdOf('declined'), 200),
      refused(holdOf('broke'), 20_000, 10_000),
      held(holdOf('waiting'), 300),
    );
    expect(found).toEqual({ differences: [], warnings: [] });
  });

  it.each([
    ['SUCCEEDED without a hold', [], 'a posted hold of 100', 'no hold'],
    [
      'SUCCEEDED with its hold voided',
      [held(holdOf('t'), 100), voided(holdOf('t'), 100)],
      'a posted hold of 100',
      'a voided hold of 100',
    ],
  ])('given %s, reports its funds', (_case, events, expected, actual) => {
    const found = fundsOf([transaction('t', 100, confirmed('SUCCEEDED'))], ...events);
    expect(found.differences).toEqual([
      { streamName: streamNameFor(holdOf('t')), field: 'funds', expected, actual },
    ]);
  });

  it('given a FAILED transaction whose hold was posted, reports it', () => {
    const found = fundsOf(
      [transaction('t', 100, confirmed('FAILED', 'declined'))],
      held(holdOf('t'), 100),
      posted(holdOf('t'), 100),
    );
    expect(found.differences).toEqual([
      expect.objectContaining({ field: 'funds', actual: 'a posted hold of 100' }),
    ]);
  });

  it('given a FAILED insufficient_funds transaction without a HoldRefused, reports it', () => {
    const found = fundsOf([transaction('t', 100, confirmed('FAILED', 'insufficient_funds'))]);
    expect(found.differences).toEqual([
      expect.objectContaining({ expected: 'a refused hold of 100', actual: 'no hold' }),
    ]);
  });

  it('given a PENDING transaction whose hold is already posted, reports it', () => {
    const found = fundsOf(
      [transaction('t', 100)],
      held(holdOf('t'), 100),
      posted(holdOf('t'), 100),
    );
    expect(found.differences).toEqual([
      expect.objectContaining({ expected: 'a held hold of 100, or none' }),
    ]);
  });

  it('warns, with its age, of a final transaction whose hold is still held', () => {
    const found = fundsOf(
      [
        transaction('paid', 100, confirmed('SUCCEEDED')),
        transaction('declined', 200, confirmed('FAILED', 'declined')),
      ],
      held(holdOf('paid'), 100),
      held(holdOf('declined'), 200),
    );
    expect(found).toEqual({
      differences: [],
      warnings: [
        {
          streamName: streamNameFor(holdOf('paid')),
          message: 'settlement pending: SUCCEEDED for 3600 s, its hold still held',
        },
        {
          streamName: streamNameFor(holdOf('declined')),
          message: 'settlement pending: FAILED for 3600 s, its hold still held',
        },
      ],
    });
  });

  it('warns of a refusal its PENDING transaction has not recorded yet', () => {
    const found = fundsOf([transaction('t', 20_000)], refused(holdOf('t'), 20_000, 10_000));
    expect(found).toEqual({
      differences: [],
      warnings: [expect.objectContaining({ message: expect.stringMatching(/^refusal pending/) })],
    });
  });

  it('given a hold whose id names no transaction, reports an orphan hold', () => {
    const found = fundsOf([], held('nobody', 100));
    expect(found.differences).toEqual([
      {
        streamName: ALICE_KES,
        field: 'hold:nobody',
        expected: 'a transaction of alice for 100 KES',
        actual: null,
      },
    ]);
  });

  it('given a hold of another amount than its transaction, reports both sides', () => {
    const found = fundsOf([transaction('t', 100)], held(holdOf('t'), 90));
    expect(found.differences).toEqual([
      {
        streamName: ALICE_KES,
        field: `hold:${holdOf('t')}`,
        expected: 'a transaction of alice for 90 KES',
        actual: 'a transaction of alice for 100 KES',
      },
    ]);
  });

  it('given a hold on another owner’s account, reports it and does not count it', () => {
    const bob = accountStreamName('bob', 'KES');
    const found = checkFunds(
      [transaction('t', 100, confirmed('SUCCEEDED'))],
      [
        audit(
          [opened('bob', 'KES'), deposited(500), held(holdOf('t'), 100), posted(holdOf('t'), 100)],
          bob,
        ),
      ],
      NOW,
    );
    expect(found.differences).toEqual([
      {
        streamName: bob,
        field: `hold:${holdOf('t')}`,
        expected: 'a transaction of bob for 100 KES',
        actual: 'a transaction of alice for 100 KES',
      },
      expect.objectContaining({ field: 'funds', actual: 'no hold' }),
    ]);
  });
});
