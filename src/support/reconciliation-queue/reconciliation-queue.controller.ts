import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { ReconciliationQueuePage } from '../../transactions/read-model.port';
import { cursorPosition, encodeCursor, pageSize } from '../../http/pagination';
import { SupportRoutes } from '../support-route.decorator';
import { toSupportTransactionView } from '../support-transaction.view';
import { ReconciliationQueueParams, ReconciliationQueueView } from './reconciliation-queue.dto';
import { ReconciliationQueueQuery } from './reconciliation-queue.query';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

@SupportRoutes()
@Controller('v1/support/reconciliation')
export class ReconciliationQueueController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'validationFailed')
  @ApiOperation({
    summary: 'The reconciliation queue, oldest first, with why each transaction is in it',
  })
  @ApiOkResponse({ type: ReconciliationQueueView })
  async queue(@Query() params: ReconciliationQueueParams): Promise<ReconciliationQueueView> {
    const page = await this.queryBus.execute<ReconciliationQueueQuery, ReconciliationQueuePage>(
      new ReconciliationQueueQuery(pageSize(params), cursorPosition(params)),
    );
    return {
      items: page.items.flatMap(({ summary, reason }) =>
        summary.state.exists ? [{ ...toSupportTransactionView(summary.state), reason }] : [],
      ),
      nextCursor: page.nextAfter === null ? null : encodeCursor(page.nextAfter),
    };
  }
}
