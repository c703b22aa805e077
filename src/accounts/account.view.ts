import { ApiProperty } from '@nestjs/swagger';
import { availableBalance } from './account.state';
import type { OpenAccount } from './account.state';

/** One account's balances, in minor units of its currency. */
export class AccountBalancesView {
  @ApiProperty({ example: 'alice' })
  owner!: string;

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

export function toAccountBalancesView(account: OpenAccount): AccountBalancesView {
  return {
    owner: account.owner,
    currency: account.currency,
    posted: account.posted,
    pending: account.pending,
    available: availableBalance(account),
    overdraftLimit: account.overdraftLimit,
  };
}
