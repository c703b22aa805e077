import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { readOrCreateDevSecret } from '../shared/dev-secret';

const DEV_WEBHOOK_SECRET_FILE = 'dev-webhook-secret';
export const WEBHOOK_ROUTE = 'v1/provider/webhooks';
export const TRANSACTION_ID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CAPABILITY_TOKEN_IN_URL = new RegExp(`(/${WEBHOOK_ROUTE}/[^/?#]*/)[^/?#]+`, 'g');

/** The URL with any capability token replaced, for logs: the token is the credential. */
export function redactCapabilityTokens(url: string): string {
  return url.replace(CAPABILITY_TOKEN_IN_URL, '$1[redacted]');
}

/**
 * Capability URLs for provider webhooks. The reference provider cannot sign, so the URL we hand
 * it carries an unguessable per-transaction token (an HMAC of the transaction id): only someone
 * who was given the URL can report on that transaction.
 */
@Injectable()
export class WebhookUrls {
  private readonly secret: string;

  constructor(private readonly config: AppConfig) {
    this.secret =
      config.webhooks.secret ?? readOrCreateDevSecret(config.dataDir, DEV_WEBHOOK_SECRET_FILE);
  }

  urlFor(transactionId: string): string {
    return `${this.config.provider.publicBaseUrl}/${WEBHOOK_ROUTE}/${transactionId}/${this.token(transactionId)}`;
  }

  /** Constant-time, so the token cannot be guessed byte by byte from response times. */
  isValid(transactionId: string, token: string): boolean {
    if (!TRANSACTION_ID_PATTERN.test(transactionId)) return false;
    const expected = Buffer.from(this.token(transactionId));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private token(transactionId: string): string {
    return createHmac('sha256', this.secret).update(transactionId).digest('base64url');
  }
}
