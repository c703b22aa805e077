import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ProblemException } from '../problem/problem';

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;

/** `limit` and `cursor`, shared by every paged list of the API. */
export class PageParams {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,60}$/, { message: 'cursor must be a nextCursor value' })
  cursor?: string;
}

export function pageSize(params: PageParams): number {
  return params.limit ?? DEFAULT_PAGE_SIZE;
}

/** Cursors are opaque to clients: a position, base64url-encoded. */
export function encodeCursor(position: bigint): string {
  return Buffer.from(position.toString()).toString('base64url');
}

export function decodeCursor(cursor: string): bigint {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  // Up to 40 digits: EventStoreDB positions pack two 64-bit numbers into one.
  if (!/^\d{1,40}$/.test(decoded)) {
    throw new ProblemException('validationFailed', {
      detail: 'cursor is not a value this API returned',
      errors: [{ field: 'cursor', message: 'cursor must be a nextCursor value' }],
    });
  }
  return BigInt(decoded);
}

export function cursorPosition(params: PageParams): bigint | undefined {
  return params.cursor === undefined ? undefined : decodeCursor(params.cursor);
}
