import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProperty } from '@nestjs/swagger';
import { AccountParams, OwnerParams } from '../../accounts/account-params';
import type { AccountBalance } from '../../accounts/account-read-model.port';
import {
  AccountEntryPage,
  AccountView,
  toAccountView,
} from '../../accounts/account-statement.view';
import { accountStatement } from '../../statements/list-account-entries/list-account-entries.controller';
import { ListAccountsQuery } from '../../accounts/list-accounts/list-accounts.query';
import { PageParams } from '../../http/pagination';
import { SupportRoutes } from '../support-route.decorator';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

export class SupportAccountsView {
  @ApiProperty({ example: 'alice' })
  owner!: string;

  @ApiProperty({ type: [AccountView], description: 'By currency; empty when there is none' })
  accounts!: AccountView[];
}

/** Any owner's accounts and statements: the customer routes' queries, for support. */
@SupportRoutes()
@Controller('v1/support/accounts')
export class SupportAccountsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get(':owner')
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'validationFailed')
  @ApiOperation({ summary: "An owner's accounts, one per currency" })
  @ApiOkResponse({ type: SupportAccountsView })
  async accounts(@Param() { owner }: OwnerParams): Promise<SupportAccountsView> {
    const balances = await this.queryBus.execute<ListAccountsQuery, AccountBalance[]>(
      new ListAccountsQuery(owner),
    );
    return { owner, accounts: balances.map(toAccountView) };
  }

  @Get(':owner/:currency/entries')
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'validationFailed', 'notFound')
  @ApiOperation({ summary: "An owner's statement in one currency, newest first" })
  @ApiOkResponse({ type: AccountEntryPage })
  entries(
    @Param() { owner, currency }: AccountParams,
    @Query() params: PageParams,
  ): Promise<AccountEntryPage> {
    return accountStatement(this.queryBus, owner, currency, params);
  }
}
