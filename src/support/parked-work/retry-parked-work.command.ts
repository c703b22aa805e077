import type { WorkKind } from '../../process-manager/work-queue.port';

export class RetryParkedWorkCommand {
  constructor(
    readonly transactionId: string,
    readonly kind: WorkKind,
    /** The support user, for the log. */
    readonly actor: string,
  ) {}
}
