import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import type {
  EventData,
  RecordedEvent,
  RecordedEventMetadata,
} from '../event-store/event-store.port';

export const MAX_AUDIT_PAGE_SIZE = 1000;
export const DEFAULT_AUDIT_PAGE_SIZE = 100;

export class AuditEventsParams {
  @ApiPropertyOptional({
    description: 'Exclusive global position (decimal string): nextAfter of the previous page',
    default: '0',
  })
  @IsOptional()
  // Up to 40 digits: EventStoreDB positions pack two 64-bit numbers into one.
  @Matches(/^\d{1,40}$/, { message: 'after must be a global position (decimal digits)' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_AUDIT_PAGE_SIZE, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_AUDIT_PAGE_SIZE)
  limit?: number;
}

/** A stored event exactly as written (data not upcast). 64-bit integers are decimal strings. */
export class AuditEventView {
  @ApiProperty()
  id!: string;
  @ApiProperty()
  streamName!: string;
  @ApiProperty({ description: 'Revision in its stream, from 0 (decimal string)' })
  revision!: string;
  @ApiProperty({ description: 'Global position in $all (decimal string)' })
  position!: string;
  @ApiProperty()
  type!: string;
  @ApiProperty({ type: 'object', additionalProperties: true })
  data!: EventData;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'correlationId, causationId, actor, schemaVersion, recordedAt',
  })
  metadata!: RecordedEventMetadata;
  @ApiProperty({ type: String, nullable: true })
  previousHash!: string | null;
  @ApiProperty({ description: 'SHA-256 over the canonical event and previousHash' })
  hash!: string;
}

export class TransactionEventsView {
  @ApiProperty()
  transactionId!: string;
  @ApiProperty()
  streamName!: string;
  @ApiProperty({ type: [AuditEventView] })
  events!: AuditEventView[];
}

export class AuditEventPage {
  @ApiProperty({ type: [AuditEventView] })
  events!: AuditEventView[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as after for the next page; null when this page reached the end',
  })
  nextAfter!: string | null;
}

export function toAuditEventView(event: RecordedEvent): AuditEventView {
  return {
    id: event.id,
    streamName: event.streamName,
    revision: event.revision.toString(),
    position: event.position.toString(),
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    previousHash: event.previousHash,
    hash: event.hash,
  };
}
