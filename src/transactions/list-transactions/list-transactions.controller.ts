import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuthGuard, CurrentPrincipal } from '../../auth/auth.guard';
import type { Principal } from '../../auth/token-verifier';
import { ProblemException } from '../../problem/problem';
import type { SummaryPage } from '../../read-model/read-model.port';
import { toTransactionView } from '../transaction.view';
import { ListTransactionsParams, TransactionPage } from './list-transactions.dto';
import { ListTransactionsQuery } from './list-transactions.query';

const DEFAULT_PAGE_SIZE = 20;

/** Cursors are opaque to clients: the position, base64url-encoded. */
export function encodeCursor(position: bigint): string {
  return Buffer.from(position.toString()).toString('base64url');
}

export function decodeCursor(cursor: string): bigint {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  if (!/^\d{1,20}$/.test(decoded)) {
    throw new ProblemException('validationFailed', {
      detail: 'cursor is not a value this API returned',
      errors: [{ field: 'cursor', message: 'cursor must be a nextCursor value' }],
    });
  }
  return BigInt(decoded);
}

@ApiTags('transactions')
@ApiBearerAuth()
@Controller('v1/transactions')
@UseGuards(AuthGuard)
export class ListTransactionsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  @ApiOkResponse({ type: TransactionPage, description: "The caller's transactions, newest first" })
  async list(
    @Query() params: ListTransactionsParams,
    @CurrentPrincipal() principal: Principal,
  ): Promise<TransactionPage> {
    const page = await this.queryBus.execute<ListTransactionsQuery, SummaryPage>(
      new ListTransactionsQuery(
        principal.subject,
        params.limit ?? DEFAULT_PAGE_SIZE,
        params.status,
        params.cursor === undefined ? undefined : decodeCursor(params.cursor),
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
