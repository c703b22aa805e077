import { Agent, request } from 'undici';
import { Webhook } from 'standardwebhooks';
import type { FinalStatus } from './provider-simulator.options';

export type WebhookMessage = { messageId: string; payload: { id: string; status: FinalStatus } };

/** The receiver's HTTP status, or why no status came back; a delivery never throws. */
export type DeliveryResult =
  { statusCode: number; error: null } | { statusCode: null; error: string };

/** Whether the receiver took the webhook: any 2xx answer. */
export function isAccepted(result: { statusCode: number | null }): boolean {
  return result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
}

/** Posts webhooks over one keep-alive agent, signed with Standard Webhooks when given a secret. */
export class WebhookSender {
  private readonly agent = new Agent({ keepAliveTimeout: 4_000 });
  private readonly signer: Webhook | null;

  constructor(
    secret: string | undefined,
    private readonly timeoutMs: number,
  ) {
    this.signer = secret === undefined ? null : new Webhook(secret);
  }

  async deliver(url: string, message: WebhookMessage): Promise<DeliveryResult> {
    const body = JSON.stringify(message.payload);
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/json', ...this.signatureHeaders(message, body) },
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      await response.body.dump();
      return { statusCode: response.statusCode, error: null };
    } catch (error) {
      return { statusCode: null, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Aborts deliveries in flight: a closing simulator must not wait for slow receivers. */
  close(): Promise<void> {
    return this.agent.destroy();
  }

  private signatureHeaders(message: WebhookMessage, body: string): Record<string, string> {
    if (!this.signer) return {};
    // Signed with the real time, not provider time: receivers check it against their own clock.
    const now = new Date();
    return {
      'webhook-id': message.messageId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': this.signer.sign(message.messageId, now, body),
    };
  }
}
