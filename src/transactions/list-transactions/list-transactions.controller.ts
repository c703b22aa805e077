import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthGuard, CurrentPrincipal } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import type { SummaryPage } from '../../transactions/read-model.port';
import { cursorPosition, encodeCursor, pageSize } from '../../http/pagination';
import { toTransactionView } from '../transaction.view';
import { ListTransactionsParams, TransactionPage } from './list-transactions.dto';
import { ListTransactionsQuery } from './list-transactions.query';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

@ApiTags('transactions')
@ApiBearerAuth()
@Controller('v1/transactions')
@UseGuards(AuthGuard)
export class ListTransactionsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Your transactions, newest first, a page at a time' })
  @ApiOkResponse({ type: TransactionPage, description: "The caller's transactions, newest first" })
  @ApiProblems(...CALLER_PROBLEMS, 'validationFailed')
  async list(
    @Query() params: ListTransactionsParams,
    @CurrentPrincipal() principal: Principal,
  ): Promise<TransactionPage> {
    const page = await this.queryBus.execute<ListTransactionsQuery, SummaryPage>(
      new ListTransactionsQuery(
        principal.subject,
        pageSize(params),
        params.status,
        cursorPosition(params),
      ),
    );
    return {
      items: page.items.flatMap((summary) =>
        summary.state.exists ? [toTransactionView(summary.state)] : [],
      ),
      nextCursor: page.nextBefore === null ? null : encodeCursor(page.nextBefore),
    };
  }
}
