import { Body, Controller, HttpCode, Param, Post, Req, type RawBodyRequest } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { AppConfig } from '../config/app-config';
import { ProblemException } from '../problem/problem';
import { ProviderReportDto } from './provider-report.dto';
import { RecordProviderReportCommand } from './record-provider-report.command';
import { WEBHOOK_ROUTE, WebhookUrls } from './webhook-urls';
import { TRANSACTION_ID_PATTERN } from '../transactions/transaction-id';
import { ApiProblems, JSON_BODY_PROBLEMS } from '../problem/api-problems.decorator';

export interface WebhookReceipt {
  received: true;
  /** Whether the report changed anything: a repeat, or a redelivered `webhook-id`, does not. */
  recorded: boolean;
}

/**
 * Status reports from the provider. Either the capability URL we handed it (reference
 * provider, unsigned) or a Standard Webhooks signature (a provider that signs) authenticates a
 * report; anything else changes nothing and gets a 4xx.
 */
@ApiTags('provider')
@Controller(WEBHOOK_ROUTE)
export class ProviderWebhookController {
  /** One per accepted signing secret, newest first; empty when the provider does not sign. */
  private readonly verifiers: Webhook[];

  constructor(
    private readonly webhookUrls: WebhookUrls,
    private readonly commandBus: CommandBus,
    config: AppConfig,
  ) {
    this.verifiers = config.webhooks.signingSecrets.map((secret) => new Webhook(secret));
  }

  @Post(':transactionId/:token')
  @HttpCode(200)
  @ApiOperation({ summary: 'A status report at the capability URL handed to the provider' })
  @ApiOkResponse({
    description: 'Received; `recorded` says whether it changed anything',
    schema: {
      type: 'object',
      required: ['received', 'recorded'],
      properties: { received: { type: 'boolean', enum: [true] }, recorded: { type: 'boolean' } },
    },
  })
  @ApiProblems('unauthenticated', 'rateLimited', ...JSON_BODY_PROBLEMS, 'notFound', 'conflict')
  async capabilityReport(
    @Param('transactionId') transactionId: string,
    @Param('token') token: string,
    @Body() report: ProviderReportDto,
    @Req() request: RawBodyRequest<FastifyRequest>,
  ): Promise<WebhookReceipt> {
    // The onRequest hook (capability-url.hook.ts) already refused forged URLs before the body
    // was read; checked again here, one HMAC, so the route never depends on that hook alone.
    if (!this.webhookUrls.isValid(transactionId, token)) {
      throw new ProblemException('unauthenticated', { detail: 'Unknown webhook URL' });
    }
    // A provider that signs must sign here too: the URL alone could have leaked.
    const webhookId = this.verifiers.length > 0 ? this.verifySignature(request) : null;
    if (report.id !== transactionId) {
      throw new ProblemException('validationFailed', {
        detail: 'id does not match the transaction of this webhook URL',
        errors: [{ field: 'id', message: 'id must be the transaction this URL was issued for' }],
      });
    }
    return this.record(transactionId, report, request.id, webhookId);
  }

  /** For a signing provider configured with one fixed endpoint instead of per-transaction URLs. */
  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'A Standard Webhooks signed status report' })
  @ApiOkResponse({
    description: 'Received; `recorded` says whether it changed anything',
    schema: {
      type: 'object',
      required: ['received', 'recorded'],
      properties: { received: { type: 'boolean', enum: [true] }, recorded: { type: 'boolean' } },
    },
  })
  @ApiProblems('unauthenticated', 'rateLimited', ...JSON_BODY_PROBLEMS, 'notFound', 'conflict')
  async signedReport(
    @Body() report: ProviderReportDto,
    @Req() request: RawBodyRequest<FastifyRequest>,
  ): Promise<WebhookReceipt> {
    if (this.verifiers.length === 0) {
      throw new ProblemException('notFound', { detail: 'Signed webhooks are not configured' });
    }
    const webhookId = this.verifySignature(request);
    if (!TRANSACTION_ID_PATTERN.test(report.id)) {
      throw new ProblemException('notFound', { detail: 'Unknown transaction' });
    }
    return this.record(report.id, report, request.id, webhookId);
  }

  /**
   * Signature and timestamp tolerance (Standard Webhooks) under any accepted secret, so the
   * provider can move to a new one while ours still lists the old; returns the `webhook-id`.
   */
  private verifySignature(request: RawBodyRequest<FastifyRequest>): string {
    const headers = {
      'webhook-id': String(request.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
    };
    let refusal: WebhookVerificationError | undefined;
    for (const verifier of this.verifiers) {
      try {
        verifier.verify(request.rawBody ?? '', headers);
        return headers['webhook-id'];
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        refusal ??= error;
      }
    }
    throw new ProblemException('unauthenticated', {
      detail: `Bad signature: ${refusal?.message ?? 'no signing secret'}`,
    });
  }

  /** The signed report's `webhook-id` is recorded in the stream, so a redelivery is a no-op. */
  private async record(
    transactionId: string,
    report: ProviderReportDto,
    correlationId: string,
    webhookId: string | null,
  ): Promise<WebhookReceipt> {
    const recorded = await this.commandBus.execute<RecordProviderReportCommand, boolean>(
      new RecordProviderReportCommand(transactionId, report.status, webhookId, {
        correlationId,
        causationId: webhookId ?? correlationId,
        actor: 'provider',
      }),
    );
    return { received: true, recorded };
  }
}
