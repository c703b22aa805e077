import type { CausationContext } from '../transactions/transaction-streams';
import type { ProviderReportDto } from './provider-report.dto';

/** An authenticated provider report for one transaction; `reportId` is a signed report's `webhook-id`. */
export class RecordProviderReportCommand {
  constructor(
    readonly transactionId: string,
    readonly status: ProviderReportDto['status'],
    readonly reportId: string | null,
    readonly context: CausationContext,
  ) {}
}
