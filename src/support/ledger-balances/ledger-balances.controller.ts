import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { CurrencyBalances } from '../../accounts/account-read-model.port';
import { SupportRoutes } from '../support-route.decorator';
import { LedgerBalancesQuery } from './ledger-balances.query';
import { LedgerBalancesView, toLedgerBalancesView } from './ledger-balances.view';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

@SupportRoutes()
@Controller('v1/support/ledger/balances')
export class LedgerBalancesController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden')
  @ApiOperation({
    summary: 'Per currency: the customers, funding and provider clearing balances, and their sum',
    description:
      'The system accounts are not streams: their balances are the legs (docs/accounts.md) of ' +
      'every customer account event, summed by the account projection. `sum` is zero in posted ' +
      'and in pending for every currency.',
  })
  @ApiOkResponse({ type: LedgerBalancesView })
  async balances(): Promise<LedgerBalancesView> {
    return toLedgerBalancesView(
      await this.queryBus.execute<LedgerBalancesQuery, CurrencyBalances[]>(
        new LedgerBalancesQuery(),
      ),
    );
  }
}
