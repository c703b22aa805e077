import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import pino from 'pino';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { redactingLogger } from './logging/log-redaction';
import { PinoNestLogger } from './logging/pino-nest.logger';
import { answerClientError, answerFrameworkError } from './problem/http-layer-errors';
import { FieldError, ProblemException, problem } from './problem/problem';
import { ProblemFilter } from './problem/problem.filter';
import { refuseUnknownCapabilityUrls } from './provider-webhooks/capability-url.hook';
import {
  ProviderSimulatorConfig,
  providerSimulatorConfigFromEnvironment,
} from './provider-simulator/provider-simulator.config';
import { redactCapabilityTokens, WebhookUrls } from './provider-webhooks/webhook-urls';
import { registerRateLimits } from './rate-limit/rate-limits';
import { Clock, SystemClock } from './shared/clock';
import { transactionErrorProblems } from './transactions/transaction-problems';
import { accountErrorProblems } from './accounts/account-problems';
import { acceptJsonBodiesOnly } from './http/json-body.parser';
import { MathRandom, Random } from './shared/random';
import { StrictValidationPipe } from './http/strict-validation.pipe';
import { DOCS_PATH, openApiDocument } from './openapi/openapi-document';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** What an instance in the worker role serves: probes and metrics. */
const WORKER_ROUTES = /^\/(health|metrics)(\/|\?|$)/;

/** A caller's X-Request-Id becomes the correlation id when it is sane; otherwise a new one. */
function correlationIdFor(request: IncomingMessage): string {
  const sent = request.headers['x-request-id'];
  return typeof sent === 'string' && CORRELATION_ID.test(sent) ? sent : randomUUID();
}

function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

export const validationPipe = new StrictValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  forbidUnknownValues: true,
  exceptionFactory: (errors) => {
    const details = fieldErrors(errors);
    return new ProblemException('validationFailed', {
      detail: details.map((e) => e.message).join('; ') || 'The request body must be an object',
      errors: details,
    });
  },
});

export interface AppOptions {
  clock?: Clock;
  random?: Random;
  logger?: pino.Logger;
  /** The built-in simulator's settings, used when the config names no PROVIDER_URL; default: SIM_* defaults. */
  simulator?: ProviderSimulatorConfig;
}

/** Builds the whole service, ready to listen: used by main.ts and by the end-to-end tests. */
export async function createApp(
  config: AppConfig,
  {
    clock = new SystemClock(),
    random = new MathRandom(),
    logger: unredactedLogger = pino({ level: config.logLevel }),
    simulator = providerSimulatorConfigFromEnvironment({}),
  }: AppOptions = {},
): Promise<NestFastifyApplication> {
  const logger = redactingLogger(unredactedLogger, redactCapabilityTokens);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.maxBodyBytes,
    trustProxy: config.trustProxy,
    genReqId: correlationIdFor,
    return503OnClosing: true,
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(
      config,
      clock,
      random,
      config.provider.url ? { url: config.provider.url } : { simulator },
    ),
    adapter,
    // The body parser is ours (acceptJsonBodiesOnly), so Nest registers none.
    { logger: new PinoNestLogger(logger), bufferLogs: true, bodyParser: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  acceptJsonBodiesOnly(fastify, config.maxBodyBytes);
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('X-Request-Id', request.id);
  });
  if (config.role === 'worker') {
    // A worker runs the process manager only; load balancers send API traffic elsewhere.
    fastify.addHook('onRequest', async (request, reply) => {
      if (WORKER_ROUTES.test(request.url)) return;
      await reply
        .code(404)
        .type('application/problem+json')
        .send(
          problem('notFound', {
            detail:
              'This instance runs in the worker role (SERVICE_ROLE=worker): only /health and /metrics are served',
          }),
        );
    });
  }
  if (config.role !== 'worker') await registerRateLimits(app, config);
  refuseUnknownCapabilityUrls(fastify, app.get(WebhookUrls));
  app.useGlobalFilters(new ProblemFilter([...transactionErrorProblems, ...accountErrorProblems]));
  app.useGlobalPipes(validationPipe);

  SwaggerModule.setup(DOCS_PATH, app, () => openApiDocument(app));
  await app.init();
  return app;
}
