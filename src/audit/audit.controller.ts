import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
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

/** The raw streams for auditors: what was stored, with the hashes that prove it unchanged. */
@ApiTags('audit')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'The token has no auditor role' })
@Controller('v1/audit')
@UseGuards(AuthGuard, RolesGuard)
@RequireRoles('auditor')
export class AuditController {
  constructor(private readonly eventStore: EventStore) {}

  @Get('transactions/:transactionId/events')
  @ApiOkResponse({
    type: TransactionEventsView,
    description: 'Every event of the stream, in order',
  })
  @ApiNotFoundResponse({ description: 'No stream for this internal transaction id' })
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
