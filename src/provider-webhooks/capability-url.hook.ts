import type { FastifyInstance } from 'fastify';
import { ProblemException } from '../problem/problem';
import { sendProblem, toProblemResponse } from '../problem/problem.filter';
import { WEBHOOK_ROUTE, WebhookUrls } from './webhook-urls';

export const CAPABILITY_ROUTE = `/${WEBHOOK_ROUTE}/:transactionId/:token`;

/**
 * Refuses a report at a forged or unknown capability URL as soon as the request is routed,
 * before its body is read or parsed: a forged URL costs one HMAC, whatever it carries.
 */
export function refuseUnknownCapabilityUrls(
  fastify: FastifyInstance,
  webhookUrls: WebhookUrls,
): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== CAPABILITY_ROUTE) return;
    const { transactionId, token } = request.params as { transactionId: string; token: string };
    if (webhookUrls.isValid(transactionId, token)) return;
    const refusal = new ProblemException('unauthenticated', { detail: 'Unknown webhook URL' });
    sendProblem(reply, request, toProblemResponse(refusal));
    return reply;
  });
}
