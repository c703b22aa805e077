import { Controller, Get, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthGuard, CurrentPrincipal } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import type { AccountBalance } from '../account-read-model.port';
import { AccountListView, toAccountView } from '../account-statement.view';
import { ListAccountsQuery } from './list-accounts.query';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1/accounts')
@UseGuards(AuthGuard)
export class ListAccountsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiProblems(...CALLER_PROBLEMS)
  @ApiOperation({
    summary: "The caller's accounts, one per currency",
    description: 'An owner with no account yet gets an empty list.',
  })
  @ApiOkResponse({ type: AccountListView })
  async list(@CurrentPrincipal() principal: Principal): Promise<AccountListView> {
    const balances = await this.queryBus.execute<ListAccountsQuery, AccountBalance[]>(
      new ListAccountsQuery(principal.subject),
    );
    return { accounts: balances.map(toAccountView) };
  }
}
