import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import { AuthGuard, RequireRoles, RolesGuard } from '../auth/auth.guard';
import { EventStore } from '../event-store/event-store.port';
import { ProblemException } from '../problem/problem';
import { streamNameFor, TRANSACTION_ID_PATTERN } from '../transactions/transaction-id';
import {
  AuditEventPage,
  AuditEventsParams,
  DEFAULT_AUDIT_PAGE_SIZE,
  TransactionEventsView,
  toAuditEventView,
} from './audit-events.dto';
import { ApiProblems, CALLER_PROBLEMS } from '../problem/api-problems.decorator';

/** The raw streams for auditors: what was stored, with the hashes that prove it unchanged. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
@UseGuards(AuthGuard, RolesGuard)
@RequireRoles('auditor')
export class AuditController {
  constructor(private readonly eventStore: EventStore) {}

  @Get('transactions/:transactionId/events')
  @ApiOperation({ summary: 'Every stored event of one transaction, with its hashes' })
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'notFound')
  @ApiOkResponse({
    type: TransactionEventsView,
    description: 'Every event of the stream, in order',
  })
  async transactionEvents(
    @Param('transactionId') transactionId: string,
  ): Promise<TransactionEventsView> {
    const notFound = new ProblemException('notFound', {
      detail: `No events for transaction ${transactionId}`,
    });
    if (!TRANSACTION_ID_PATTERN.test(transactionId)) throw notFound;
    const streamName = streamNameFor(transactionId);
    const events = await this.eventStore.readStream(streamName);
    if (events.length === 0) throw notFound;
    return { transactionId, streamName, events: events.map(toAuditEventView) };
  }

  @Get('events')
  @ApiOperation({ summary: 'One page of every stored event ($all), in position order' })
  @ApiProblems(...CALLER_PROBLEMS, 'forbidden', 'validationFailed')
  @ApiOkResponse({ type: AuditEventPage, description: 'One page of $all, in position order' })
  async allEvents(@Query() params: AuditEventsParams): Promise<AuditEventPage> {
    const limit = params.limit ?? DEFAULT_AUDIT_PAGE_SIZE;
    const events = await this.eventStore.readAll({
      after: BigInt(params.after ?? '0'),
      maxCount: limit,
    });
    const last = events.at(-1);
    return {
      events: events.map(toAuditEventView),
      nextAfter: events.length === limit && last ? last.position.toString() : null,
    };
  }
}
