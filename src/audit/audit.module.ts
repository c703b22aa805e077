import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AuditController } from './audit.controller';

/** Auditors' HTTP routes; the event store comes from the global EventStoreModule. */
@Module({
  imports: [AuthModule],
  controllers: [AuditController],
})
export class AuditModule {}
