import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Clock } from '../../shared/clock';
import { ReadModel } from '../../transactions/read-model.port';

export interface QueueSizeSample {
  /** ms since the epoch */
  at: number;
  size: number;
}

/** One sample a minute, the dashboard's bucket. */
export const QUEUE_SAMPLE_EVERY_MS = 60_000;
/** As far back as the dashboard looks. */
export const QUEUE_SAMPLES_KEPT_MS = 24 * 3_600_000;

/**
 * The reconciliation queue's size over time, sampled by this instance every minute and kept in
 * memory. Sampled rather than derived: the summaries do not record when a case was opened or
 * settled (only the events do), and "pending too long" is no stored fact at all (see the
 * queue's route), so the size at a past moment cannot be read back from the read model.
 */
@Injectable()
export class ReconciliationQueueSampler implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Dashboard');
  private samples: QueueSizeSample[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly readModel: ReadModel,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sample(), QUEUE_SAMPLE_EVERY_MS).unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The queue's size now, as many as the queue route lists, counted by the read model. */
  async sizeNow(): Promise<QueueSizeSample> {
    const at = this.clock.now().getTime();
    const pendingRequestedBefore = new Date(
      at - this.config.reconciliationPendingAgeMs,
    ).toISOString();
    return { at, size: await this.readModel.reconciliationQueueSize(pendingRequestedBefore) };
  }

  /** The samples taken at or after `from`, oldest first. */
  since(from: number): QueueSizeSample[] {
    return this.samples.filter((sample) => sample.at >= from);
  }

  private async sample(): Promise<void> {
    try {
      const sample = await this.sizeNow();
      this.samples = [
        ...this.samples.filter((kept) => kept.at >= sample.at - QUEUE_SAMPLES_KEPT_MS),
        sample,
      ];
    } catch (error) {
      // A store that is down for a minute leaves a gap in the chart, nothing else.
      this.logger.warn({ err: error }, 'reconciliation queue not sampled');
    }
  }
}
