import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { validationPipe } from '../src/app.factory';
import { RequestTransactionDto } from '../src/transactions/request-transaction/request-transaction.dto';

/**
 * The ceiling for the accept path: the same route, DTO and ValidationPipe as the service, and
 * nothing else (no auth, no storage, no hooks). Whatever the service costs beyond this is ours.
 * Run as a child of accept.bench.ts: PORT (0 picks one), HOST (default 127.0.0.1).
 */
@Controller()
class BaselineController {
  @Post('v1/transactions')
  @HttpCode(202)
  accept(@Body() body: RequestTransactionDto): RequestTransactionDto {
    return body;
  }

  /** Same readiness URL as the service, so the bench waits for both the same way. */
  @Get('health/ready')
  ready(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [BaselineController] })
class BaselineModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    BaselineModule,
    new FastifyAdapter(),
    { logger: ['error', 'warn'] },
  );
  app.useGlobalPipes(validationPipe);
  process.once('SIGTERM', () => {
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('baseline: error while closing', error);
        process.exit(1);
      },
    );
  });
  await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
}

main().catch((error: unknown) => {
  console.error('baseline failed to start:', error);
  process.exit(1);
});
