import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthGuard, CurrentPrincipal } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import { cursorPosition, PageParams, pageSize } from '../../http/pagination';
import { ProblemException } from '../../problem/problem';
import { CurrencyParams } from '../../accounts/account-params';
import { AccountEntryPage, toAccountEntryPage } from '../../accounts/account-statement.view';
import type { AccountEntriesResult } from './list-account-entries.handler';
import { ListAccountEntriesQuery } from './list-account-entries.query';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

/** The statement of (owner, currency) as a response, or 404 when there is no such account. */
export async function accountStatement(
  queryBus: QueryBus,
  owner: string,
  currency: string,
  params: PageParams,
): Promise<AccountEntryPage> {
  const result = await queryBus.execute<ListAccountEntriesQuery, AccountEntriesResult | null>(
    new ListAccountEntriesQuery(owner, currency, pageSize(params), cursorPosition(params)),
  );
  if (!result) throw new ProblemException('notFound', { detail: `No ${currency} account` });
  return toAccountEntryPage(result.page, result.clientIds);
}

@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1/accounts')
@UseGuards(AuthGuard)
export class ListAccountEntriesController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get(':currency/entries')
  @ApiProblems(...CALLER_PROBLEMS, 'validationFailed', 'notFound')
  @ApiOperation({
    summary: "The statement of the caller's account in one currency, newest first",
    description:
      'One entry per movement of money (deposit, hold, hold posted or voided, a support ' +
      'reversal), each with the balances after it. A refused hold moved nothing and is not an ' +
      'entry. 404 when the caller has no account in that currency.',
  })
  @ApiOkResponse({ type: AccountEntryPage })
  list(
    @Param() { currency }: CurrencyParams,
    @Query() params: PageParams,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AccountEntryPage> {
    return accountStatement(this.queryBus, principal.subject, currency, params);
  }
}
