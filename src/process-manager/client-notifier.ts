import { Injectable, Logger } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import { AppConfig } from '../config/app-config';
import { Clock } from '../shared/clock';
import type { ExistingTransaction } from '../transactions/transaction.state';
import { toTransactionView } from '../transactions/transaction.view';
import type { ClientCallbackView } from './client-callback.view';

const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 3_600_000;

/**
 * Delivers each final status to the client's backend as a Standard Webhooks signed POST. The
 * webhook id is stable per transaction, so the receiver can drop repeats of a delivery we
 * retried after a lost acknowledgement.
 */
@Injectable()
export class ClientNotifier {
  private readonly logger = new Logger('ClientNotifier');
  private readonly signer: Webhook | null;

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.signer = config.clientCallback ? new Webhook(config.clientCallback.secret) : null;
  }

  /** True once the client acknowledged with a 2xx. */
  async deliver(transaction: ExistingTransaction): Promise<boolean> {
    if (!this.signer || !this.config.clientCallback) return true;
    const webhookId = `msg_final_${transaction.transactionId}`;
    const timestamp = this.clock.now();
    const callback: ClientCallbackView = {
      type: 'transaction.finalized',
      timestamp: timestamp.toISOString(),
      data: { owner: transaction.owner, ...toTransactionView(transaction) },
    };
    const payload = JSON.stringify(callback);
    try {
      const response = await request(this.config.clientCallback.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': webhookId,
          'webhook-timestamp': Math.floor(timestamp.getTime() / 1000).toString(),
          'webhook-signature': this.signer.sign(webhookId, timestamp, payload),
        },
        body: payload,
        headersTimeout: DELIVERY_TIMEOUT_MS,
        bodyTimeout: DELIVERY_TIMEOUT_MS,
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) return true;
      this.logger.warn({ status: response.statusCode, webhookId }, 'client callback refused');
    } catch (error) {
      this.logger.warn({ err: error, webhookId }, 'client callback failed');
    }
    return false;
  }

  /** Exponential backoff with jitter between deliveries, capped at an hour. */
  backoffMs(delivery: number, jitter: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** delivery);
    return Math.round(ceiling / 2 + (jitter * ceiling) / 2);
  }
}
