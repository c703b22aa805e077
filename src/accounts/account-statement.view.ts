import { ApiProperty } from '@nestjs/swagger';
import { encodeCursor } from '../http/pagination';
import type {
  AccountBalance,
  AccountEntry,
  AccountEntryKind,
  EntryPage,
} from './account-read-model.port';

const ENTRY_KINDS: AccountEntryKind[] = [
  'deposit',
  'hold',
  'hold_posted',
  'hold_voided',
  'posted_hold_refunded',
  'voided_hold_posted',
];

/** One account of the caller, in minor units of its currency. */
export class AccountView {
  @ApiProperty({ example: 'KES' })
  currency!: string;

  @ApiProperty({ description: 'Deposits less captured payments', example: 100000 })
  posted!: number;

  @ApiProperty({ description: 'Held for payments still in flight', example: 2500 })
  pending!: number;

  @ApiProperty({ description: 'posted - pending + overdraft limit', example: 97500 })
  available!: number;

  @ApiProperty({ example: 0 })
  overdraftLimit!: number;
}

export class AccountListView {
  @ApiProperty({ type: [AccountView], description: 'By currency; empty when there is none' })
  accounts!: AccountView[];
}

/** One statement line: a movement of money and the balances after it. */
export class AccountEntryView {
  @ApiProperty({ description: 'Stable: the same after a rebuild' })
  id!: string;

  @ApiProperty({ enum: ENTRY_KINDS })
  kind!: AccountEntryKind;

  @ApiProperty({
    description: 'Minor units, signed from the account holder: credits positive, debits negative',
    example: -2500,
  })
  amount!: number;

  @ApiProperty({ enum: ['posted', 'pending'], description: 'Which balance the amount moved' })
  balance!: 'posted' | 'pending';

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The internal transaction id of a hold entry; null for a deposit',
  })
  transactionId!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "The transaction's client id, when the transaction is known to the read model",
  })
  clientId!: string | null;

  @ApiProperty({ type: String, nullable: true, description: "A deposit's reference" })
  reference!: string | null;

  @ApiProperty({ description: 'When it was recorded (ISO 8601)' })
  at!: string;

  @ApiProperty({ description: 'Posted balance after this entry' })
  posted!: number;

  @ApiProperty({ description: 'Pending balance after this entry' })
  pending!: number;

  @ApiProperty({ description: 'Available balance after this entry' })
  available!: number;
}

export class AccountEntryPage {
  @ApiProperty({ type: [AccountEntryView], description: 'Newest first' })
  items!: AccountEntryView[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page' })
  nextCursor!: string | null;
}

export function toAccountView(balance: AccountBalance): AccountView {
  return {
    currency: balance.currency,
    posted: balance.posted,
    pending: balance.pending,
    available: balance.available,
    overdraftLimit: balance.overdraftLimit,
  };
}

/** A page of entries with each hold's client id (from `clientIds`, by transaction id). */
export function toAccountEntryPage(
  page: EntryPage,
  clientIds: ReadonlyMap<string, string>,
): AccountEntryPage {
  return {
    items: page.items.map((entry: AccountEntry) => ({
      id: entry.entryId,
      kind: entry.kind,
      amount: entry.amount,
      balance: entry.balance,
      transactionId: entry.transactionId,
      clientId: entry.transactionId === null ? null : (clientIds.get(entry.transactionId) ?? null),
      reference: entry.reference,
      at: entry.at,
      posted: entry.postedAfter,
      pending: entry.pendingAfter,
      available: entry.availableAfter,
    })),
    nextCursor: page.nextBefore === null ? null : encodeCursor(page.nextBefore),
  };
}
