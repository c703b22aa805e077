import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AuthModule } from '../auth/auth.module';
import { ProjectionsModule } from '../projections/projections.module';
import { ListAccountEntriesController } from './list-account-entries/list-account-entries.controller';
import { ListAccountEntriesHandler } from './list-account-entries/list-account-entries.handler';

/**
 * A customer's statement: the account's entries, each linked to the transaction the client knows
 * by its own id. It reads both the accounts' and the transactions' read models, so it sits above
 * both (transactions hold their money on accounts; accounts know nothing of transactions).
 */
@Module({
  imports: [CqrsModule, AuthModule, ProjectionsModule],
  controllers: [ListAccountEntriesController],
  providers: [ListAccountEntriesHandler],
})
export class StatementsModule {}
