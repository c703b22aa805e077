import type { HeaderObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/** Response headers the API documents, shared by the routes that send them. */
export const LOCATION: HeaderObject = {
  description: 'Where the transaction can be read',
  schema: { type: 'string', example: '/v1/transactions/order-1001' },
};

export const IDEMPOTENT_REPLAYED: HeaderObject = {
  description: 'Sent (as "true") when this answers a repeat of an earlier request',
  schema: { type: 'string', enum: ['true'] },
};

export const PREFERENCE_APPLIED: HeaderObject = {
  description: 'Prefer: wait was honoured: the answer waited up to this many seconds',
  schema: { type: 'string', pattern: '^wait=\\d+$', example: 'wait=20' },
};

export const ETAG: HeaderObject = {
  description: 'The revision of the transaction; send it back in If-None-Match to long-poll',
  required: true,
  schema: { type: 'string', pattern: '^"r\\d+"$', example: '"r3"' },
};
