import type { SubmissionTruth } from './ground-truth';
import type { ProviderStatus } from './provider-simulator.options';

/** What a status check returns; `writtenByAttempt` decides which POST of an id owns it. */
export type ProviderRecord = {
  id: string;
  status: ProviderStatus;
  webhookUrl: string;
  writtenByAttempt: number;
  /** When the writing POST's record first showed (pending or final), in provider seconds. */
  visibleAtSeconds: number;
};

/** The provider's records by id, shared by the HTTP and the in-process simulator. */
export class ProviderRecords {
  // A Map, not a record: ids come from clients, and an id such as "__proto__" must stay plain data.
  private readonly records = new Map<string, ProviderRecord>();

  read(id: string): ProviderRecord | undefined {
    return this.records.get(id);
  }

  /**
   * The newest POST of an id that has written its record owns it, so an older attempt that
   * finishes later changes nothing, while a 504 that was never processed leaves it untouched.
   * Notes in `submission` when its record became visible and final.
   */
  write(id: string, submission: SubmissionTruth, status: ProviderStatus, nowSeconds: number): void {
    const current = this.records.get(id);
    if (current && current.writtenByAttempt > submission.attempt) return;
    submission.visibleAtSeconds ??= nowSeconds;
    if (status !== 'pending') submission.finalAtSeconds = nowSeconds;
    this.records.set(id, {
      id,
      status,
      webhookUrl: submission.webhookUrl,
      writtenByAttempt: submission.attempt,
      visibleAtSeconds: submission.visibleAtSeconds,
    });
  }
}
