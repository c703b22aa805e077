import { ApiProperty } from '@nestjs/swagger';
import type { CurrencyBalances, LegBalance } from '../../accounts/account-read-model.port';

export class LegBalanceView {
  @ApiProperty({ example: -100000 })
  posted!: number;

  @ApiProperty({ example: 0 })
  pending!: number;
}

/**
 * One currency's ledger, every balance as a sum of legs seen from its account: credits
 * positive, debits negative.
 */
export class CurrencyLedgerView {
  @ApiProperty({ example: 'KES' })
  currency!: string;

  @ApiProperty({
    type: LegBalanceView,
    description: 'Every customer account summed; pending is minus the holds they owe',
  })
  customers!: LegBalanceView;

  @ApiProperty({ type: LegBalanceView, description: 'Money from outside: minus every deposit' })
  funding!: LegBalanceView;

  @ApiProperty({ type: LegBalanceView, description: 'Money handed (or held for) the provider' })
  clearing!: LegBalanceView;

  @ApiProperty({
    type: LegBalanceView,
    description: 'customers + funding + clearing: zero in posted and in pending, or it is a bug',
  })
  sum!: LegBalanceView;
}

export class LedgerBalancesView {
  @ApiProperty({ type: [CurrencyLedgerView], description: 'By currency code' })
  currencies!: CurrencyLedgerView[];
}

function plus(...balances: LegBalance[]): LegBalance {
  return {
    posted: balances.reduce((sum, balance) => sum + balance.posted, 0),
    pending: balances.reduce((sum, balance) => sum + balance.pending, 0),
  };
}

export function toLedgerBalancesView(currencies: CurrencyBalances[]): LedgerBalancesView {
  return {
    currencies: currencies.map(({ currency, customers, funding, clearing }) => ({
      currency,
      customers,
      funding,
      clearing,
      sum: plus(customers, funding, clearing),
    })),
  };
}
