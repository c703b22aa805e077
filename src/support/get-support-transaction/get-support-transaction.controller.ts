import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ProblemException } from '../../problem/problem';
import type { TransactionSummary } from '../../transactions/read-model.port';
import { TRANSACTION_ID_PATTERN } from '../../transactions/transaction-id';
import { SupportRoutes } from '../support-route.decorator';
import { SupportTransactionView, toSupportTransactionView } from '../support-transaction.view';
import { GetSupportTransactionQuery } from './get-support-transaction.query';
import { ApiProblems, CALLER_PROBLEMS } from '../../problem/api-problems.decorator';

@SupportRoutes()
@Controller('v1/support/transactions')
export class GetSupportTransactionController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get(':transactionId')
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'notFound')
  @ApiOperation({ summary: 'One transaction of any owner, by internal id' })
  @ApiOkResponse({ type: SupportTransactionView })
  async get(@Param('transactionId') transactionId: string): Promise<SupportTransactionView> {
    const notFound = new ProblemException('notFound', {
      detail: `No transaction ${transactionId}`,
    });
    if (!TRANSACTION_ID_PATTERN.test(transactionId)) throw notFound;
    const summary = await this.queryBus.execute<
      GetSupportTransactionQuery,
      TransactionSummary | null
    >(new GetSupportTransactionQuery(transactionId));
    if (!summary?.state.exists) throw notFound;
    return toSupportTransactionView(summary.state);
  }
}
