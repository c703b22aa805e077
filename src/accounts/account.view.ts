import { ApiProperty } from '@nestjs/swagger';
import { AccountView } from './account-statement.view';
import { availableBalance } from './account.state';
import type { OpenAccount } from './account.state';

/** One account's balances, as an operator's write answers them: the account view and its owner. */
export class AccountBalancesView extends AccountView {
  @ApiProperty({ example: 'alice' })
  owner!: string;
}

/** From the account as the write left it (the read model may not have caught up yet). */
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
