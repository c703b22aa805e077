import { accountStreamName } from '../../src/accounts/account-id';
import { ACCOUNT_SCHEMA_VERSION } from '../../src/accounts/account-streams';
import type { AccountEvent } from '../../src/accounts/account.events';
import type { RecordedEvent } from '../../src/event-store/event-store.port';

const AT = '2026-12-05T04:00:00.000Z';

/**
 * An account's events as the store records them: revisions from `firstRevision`, positions
 * from `firstPosition` (one apart unless `positionStep` says otherwise).
 */
export function recordedAccountEvents(
  owner: string,
  currency: string,
  events: AccountEvent[],
  options: { firstRevision?: bigint; firstPosition?: bigint; positionStep?: bigint } = {},
): RecordedEvent[] {
  const { firstRevision = 0n, firstPosition = 1n, positionStep = 1n } = options;
  const streamName = accountStreamName(owner, currency);
  return events.map((event, index) => ({
    id: `${streamName}-${firstRevision + BigInt(index)}`,
    streamName,
    type: event.type,
    data: { ...event.data },
    metadata: {
      correlationId: 'c',
      causationId: 'c',
      actor: 'test',
      schemaVersion: ACCOUNT_SCHEMA_VERSION,
      recordedAt: AT,
    },
    revision: firstRevision + BigInt(index),
    position: firstPosition + BigInt(index) * positionStep,
    previousHash: null,
    hash: 'h',
  }));
}

export const opened = (owner: string, currency: string): AccountEvent => ({
  type: 'AccountOpened',
  data: { owner, currency, openedAt: AT },
});

export const deposited = (depositId: string, amount: number): AccountEvent => ({
  type: 'FundsDeposited',
  data: { depositId, amount, reference: `ref ${depositId}`, at: AT },
});

export const held = (holdId: string, amount: number): AccountEvent => ({
  type: 'FundsHeld',
  data: { holdId, amount, expiresAt: '2026-12-06T04:00:00.000Z', at: AT },
});

export const refused = (holdId: string, amount: number, available: number): AccountEvent => ({
  type: 'HoldRefused',
  data: { holdId, amount, reason: 'insufficient_funds', available, at: AT },
});

export const posted = (holdId: string, amount: number): AccountEvent => ({
  type: 'HoldPosted',
  data: { holdId, amount, at: AT },
});

export const voided = (holdId: string, amount: number): AccountEvent => ({
  type: 'HoldVoided',
  data: { holdId, amount, reason: 'transaction_failed', at: AT },
});

export const refunded = (holdId: string, amount: number): AccountEvent => ({
  type: 'PostedHoldRefunded',
  data: { holdId, amount, reason: 'resolved_by_support', at: AT },
});

export const capturedAfterVoid = (holdId: string, amount: number): AccountEvent => ({
  type: 'VoidedHoldPosted',
  data: { holdId, amount, reason: 'resolved_by_support', at: AT },
});

export const overdraftSet = (changeId: string, limit: number): AccountEvent => ({
  type: 'OverdraftLimitSet',
  data: { changeId, limit, at: AT },
});
