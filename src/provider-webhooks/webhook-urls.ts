import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { readOrCreateDevSecret } from '../shared/dev-secret';
import { TRANSACTION_ID_PATTERN } from '../transactions/transaction-id';

const DEV_WEBHOOK_SECRET_FILE = 'dev-webhook-secret';
export const WEBHOOK_ROUTE = 'v1/provider/webhooks';
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
  /** Newest first: the first signs new URLs; the others keep URLs already handed out valid. */
  private readonly secrets: string[];

  constructor(private readonly config: AppConfig) {
    this.secrets =
      config.webhooks.secrets.length > 0
        ? config.webhooks.secrets
        : [readOrCreateDevSecret(config.dataDir, DEV_WEBHOOK_SECRET_FILE)];
  }

  urlFor(transactionId: string): string {
    return `${this.config.provider.publicBaseUrl}/${WEBHOOK_ROUTE}/${transactionId}/${this.token(this.secrets[0], transactionId)}`;
  }

  /**
   * Constant-time per secret, so a token cannot be guessed byte by byte from response times;
   * every secret is tried, so the time does not say which one matched.
   */
  isValid(transactionId: string, token: string): boolean {
    if (!TRANSACTION_ID_PATTERN.test(transactionId)) return false;
    const given = Buffer.from(token);
    let valid = false;
    for (const secret of this.secrets) {
      const expected = Buffer.from(this.token(secret, transactionId));
      if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
    }
    return valid;
  }

  private token(secret: string, transactionId: string): string {
    return createHmac('sha256', secret).update(transactionId).digest('base64url');
  }
}
