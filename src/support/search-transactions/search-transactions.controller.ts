import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { SummaryPage } from '../../transactions/read-model.port';
import { cursorPosition, encodeCursor, pageSize } from '../../http/pagination';
import { SupportRoutes } from '../support-route.decorator';
import { toSupportTransactionView } from '../support-transaction.view';
import { SearchTransactionsParams, SupportTransactionPage } from './search-transactions.dto';
import { SearchTransactionsQuery } from './search-transactions.query';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

/** The read model compares request times as toISOString text, so bounds take that form too. */
const asStoredTime = (time: string | undefined) =>
  time === undefined ? undefined : new Date(time).toISOString();

@SupportRoutes()
@Controller('v1/support/transactions')
export class SearchTransactionsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'validationFailed')
  @ApiOperation({ summary: 'Search every owner’s transactions, newest first' })
  @ApiOkResponse({ type: SupportTransactionPage })
  async search(@Query() params: SearchTransactionsParams): Promise<SupportTransactionPage> {
    const page = await this.queryBus.execute<SearchTransactionsQuery, SummaryPage>(
      new SearchTransactionsQuery({
        status: params.status,
        stage: params.stage,
        owner: params.owner,
        clientId: params.id,
        transactionId: params.transactionId,
        requestedFrom: asStoredTime(params.from),
        requestedTo: asStoredTime(params.to),
        before: cursorPosition(params),
        limit: pageSize(params),
      }),
    );
    return {
      items: page.items.flatMap((summary) =>
        summary.state.exists ? [toSupportTransactionView(summary.state)] : [],
      ),
      nextCursor: page.nextBefore === null ? null : encodeCursor(page.nextBefore),
    };
  }
}
