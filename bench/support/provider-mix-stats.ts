/**
 * The pure half of bench/provider-mix.bench.ts: joins our views with the simulator's ground
 * truth and computes what the bench prints. No I/O and no clock, so the numbers depend only on
 * the inputs (and can be checked by hand against a saved truth).
 */
import type { GroundTruth, TransactionTruth } from '../../src/provider-simulator/ground-truth';
import type { TransactionView } from '../../src/transactions/transaction.view';

export interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles: every value reported is one that was observed. */
export function distribution(values: readonly number[]): Distribution | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  return {
    count: sorted.length,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
    max: sorted[sorted.length - 1],
  };
}

/**
 * One reading of both clocks, taken together: our wall clock (what the service's SystemClock
 * stamps on events, so on `finalizedAt`) and the simulator's provider seconds.
 */
export interface ClockReading {
  wallMs: number;
  providerSeconds: number;
  /** Half the wall time the reading took: how far off `wallMs` may be. */
  uncertaintyMs: number;
}

/**
 * Reads both clocks: `read` asks the simulator (e.g. for its truth) and `providerSecondsOf` picks
 * its time; the wall time is the midpoint of the two Date.now() around the read.
 */
export function readClocks<T>(
  read: () => T,
  providerSecondsOf: (value: T) => number,
): { reading: ClockReading; value: T } {
  const before = Date.now();
  const value = read();
  const after = Date.now();
  return {
    reading: {
      wallMs: (before + after) / 2,
      providerSeconds: providerSecondsOf(value),
      uncertaintyMs: (after - before) / 2,
    },
    value,
  };
}

/**
 * Maps our wall-clock instants (ISO strings from the service) onto the simulator's timeline.
 *
 * Why this works: the simulator measures provider seconds as performance.now() (monotonic)
 * since its start divided by the time scale; the service stamps events with new Date(). Both
 * run in this one process on the same machine clock, so they advance at the same rate and one
 * reading of both fixes the offset: provider = anchor.provider + (wall - anchor.wall) / scale.
 * The two clocks can still part (NTP slewing, or a step of the wall clock), so a second reading
 * at the end is compared with what the map predicts and the difference is reported as drift.
 * Resolution: ISO times carry whole milliseconds, i.e. 0.001 / scale provider seconds.
 */
export class ProviderTimeline {
  constructor(
    readonly anchor: ClockReading,
    readonly scale: number,
  ) {}

  providerSecondsAt(wallMs: number): number {
    return this.anchor.providerSeconds + (wallMs - this.anchor.wallMs) / 1000 / this.scale;
  }

  providerSecondsOf(iso: string): number {
    return this.providerSecondsAt(Date.parse(iso));
  }

  wallMsAt(providerSeconds: number): number {
    return this.anchor.wallMs + (providerSeconds - this.anchor.providerSeconds) * 1000 * this.scale;
  }

  /** Real milliseconds by which `reading` disagrees with the map (positive: provider ahead). */
  driftMs(reading: ClockReading): number {
    return (reading.providerSeconds - this.providerSecondsAt(reading.wallMs)) * 1000 * this.scale;
  }

  /**
   * Real milliseconds of disagreement explained without a fault: both readings' uncertainty,
   * Date.now() truncating to whole milliseconds (twice), and NTP slewing the wall clock at up to
   * 500 ppm (the kernel's limit) over the time between the readings.
   */
  toleranceMs(reading: ClockReading): number {
    const slew = 0.0005 * Math.abs(reading.wallMs - this.anchor.wallMs);
    return this.anchor.uncertaintyMs + reading.uncertaintyMs + 2 + slew;
  }
}

export const SOURCES = ['submission', 'webhook', 'status_check', 'process_manager', 'support'];

/** When we recorded the intent of each attempt (ProviderSubmissionStarted), as ISO times. */
export type AttemptStarts = ReadonlyMap<string, readonly { attempt: number; startedAt: string }[]>;

export interface MixInput {
  /** Our last view of every transaction we submitted (settled or not). */
  views: readonly TransactionView[];
  /** Accepted client ids that our read model never showed. */
  missing: readonly string[];
  /** Per client id, from our event streams: explains retry gaps at the provider. */
  attemptStarts: AttemptStarts;
  truth: GroundTruth;
  providerIdOf: (clientId: string) => string;
  timeline: ProviderTimeline;
  /** The latest a processed 504 may appear after its POST (the simulator's option). */
  lateAppearanceMaxSeconds: number;
  maxAttempts: number;
  /**
   * Instances were killed: an attempt recorded just before a kill may never have been POSTed
   * (it is then proven lost and retried), so fewer POSTs than attempts is expected; more never is.
   */
  instancesKilled?: boolean;
  /** The simulator's status budget per provider second; null when it has none. */
  statusBudgetPerSecond: number | null;
}

export interface RetryCheck {
  clientId: string;
  attempt: number;
  previousOutcome: string;
  /** Between the two POSTs' arrivals at the provider. */
  gapSeconds: number;
  /** Between our two intents (what our late-window rule measures), if known. */
  ourGapSeconds: number | null;
  /** From our intent of the previous attempt to its POST's arrival at the provider. */
  previousIntentToArrivalSeconds: number | null;
  ok: boolean;
}

export interface MixReport {
  transactions: number;
  settled: number;
  missing: readonly string[];
  stragglers: { clientId: string; stage: string; attempts: number }[];
  reconciliation: number;
  outcomes: GroundTruth['totals']['outcomes'];
  /** Provider ids that got a POST or a check but are not among ours (must be 0). */
  unknownProviderIds: number;
  /** From our accept (createdAt) to the first POST's arrival at the provider. */
  acceptToFirstPost: Distribution | null;
  /** From our intent record (ProviderSubmissionStarted) to that POST's arrival, every attempt. */
  intentToArrival: Distribution | null;
  answerToFinal: {
    overall: Distribution | null;
    bySource: Record<string, Distribution | null>;
    byAnswer: { ok200: Distribution | null; late504: Distribution | null };
    /** Final, yet the provider's answer has no time (should not happen). */
    unmeasured: number;
  };
  /** Lost on every attempt: from the first POST to our FAILED. */
  lostEveryAttempt: Distribution | null;
  statusChecks: {
    all: Distribution | null;
    total: number;
    timeoutCases: Distribution | null;
    timeoutCasesTotal: number;
    /** What our views count (checks answered and recorded), for comparison. */
    ourTotal: number;
    /** Checks the provider received after our status was already final. */
    afterFinal: number;
    maxInAnySecond: number;
    budgetPerSecond: number | null;
    rejected429: number;
    bans: number;
  };
  finalSources: Record<string, number>;
  webhooks: {
    sent: number;
    afterFinal: number;
    atOrBeforeFinal: number;
    /** For those after: how long after our final status the provider sent them. */
    afterFinalBy: Distribution | null;
    forUnsettled: number;
  };
  posts: {
    perIdHistogram: Record<string, number>;
    total: number;
    idsSubmittedMoreThanOnce: number;
    retries: RetryCheck[];
    minRetryGapSeconds: number | null;
  };
  invariants: {
    oneCharge: { pass: boolean; problems: string[] };
    truthfulStatus: { pass: boolean; problems: string[] };
    budgetKept: { pass: boolean; problems: string[] };
    nothingLost: { pass: boolean; problems: string[] };
  };
}

const isSettled = (view: TransactionView) =>
  view.status !== 'PENDING' || view.reconciliation !== null;

function expectedView(last: TransactionTruth['submissions'][number]): {
  status: 'SUCCEEDED' | 'FAILED';
  reason: string | null;
} {
  if (last.outcome.kind === 'lost') return { status: 'FAILED', reason: 'provider_lost' };
  return last.outcome.status === 'completed'
    ? { status: 'SUCCEEDED', reason: null }
    : { status: 'FAILED', reason: 'declined' };
}

/** Keeps problem lists printable: the first few, then how many more. */
function capped(problems: string[], max = 5): string[] {
  return problems.length <= max
    ? problems
    : [...problems.slice(0, max), `... and ${problems.length - max} more`];
}

export function analyseMix(input: MixInput): MixReport {
  const { views, truth, timeline } = input;
  const truthById = new Map(truth.transactions.map((t) => [t.id, t]));
  const ourProviderIds = new Set(views.map((view) => input.providerIdOf(view.id)));

  const acceptToFirstPost: number[] = [];
  const intentToArrival: number[] = [];
  const overall: number[] = [];
  const bySource = new Map<string, number[]>(SOURCES.map((source) => [source, []]));
  const ok200: number[] = [];
  const late504: number[] = [];
  const lostEvery: number[] = [];
  let unmeasured = 0;
  const checksPerTx: number[] = [];
  const checksPerTimeoutCase: number[] = [];
  let ourChecks = 0;
  let checksAfterFinal = 0;
  const finalSources: Record<string, number> = Object.fromEntries(SOURCES.map((s) => [s, 0]));
  const webhookLead: number[] = [];
  let webhooksSent = 0;
  let webhooksAtOrBefore = 0;
  let webhooksForUnsettled = 0;
  const perIdHistogram: Record<string, number> = {};
  const retries: RetryCheck[] = [];
  const oneChargeProblems: string[] = [];
  const truthProblems: string[] = [];
  const stragglers: MixReport['stragglers'] = [];
  let reconciliation = 0;

  for (const view of views) {
    const tx = truthById.get(input.providerIdOf(view.id));
    const submissions = tx?.submissions ?? [];
    const finalAt = view.finalizedAt === null ? null : timeline.providerSecondsOf(view.finalizedAt);
    if (!isSettled(view)) {
      stragglers.push({ clientId: view.id, stage: view.stage, attempts: view.attempts });
    }
    if (view.reconciliation !== null) reconciliation += 1;
    if (finalAt !== null && view.finalStatusSource !== null) {
      finalSources[view.finalStatusSource] = (finalSources[view.finalStatusSource] ?? 0) + 1;
    }
    if (submissions.length > 0) {
      acceptToFirstPost.push(
        submissions[0].receivedAtSeconds - timeline.providerSecondsOf(view.createdAt),
      );
    }
    const starts = input.attemptStarts.get(view.id) ?? [];
    const intentAt = (attempt: number) => {
      const start = starts.find((s) => s.attempt === attempt);
      return start ? timeline.providerSecondsOf(start.startedAt) : null;
    };
    for (const submission of submissions) {
      const at = intentAt(submission.attempt);
      if (at !== null) intentToArrival.push(submission.receivedAtSeconds - at);
    }

    // Time from the provider's answer to our final status.
    const last = submissions.at(-1);
    if (finalAt !== null && last) {
      if (last.outcome.kind === 'lost') {
        // Nobody answered: the proof that the last attempt was lost is ours, so measure from
        // the first POST instead.
        lostEvery.push(finalAt - submissions[0].receivedAtSeconds);
      } else {
        const answeredAt =
          last.outcome.kind === 'ok' ? last.respondedAtSeconds : last.visibleAtSeconds;
        if (answeredAt === null) {
          unmeasured += 1;
        } else {
          const latency = finalAt - answeredAt;
          overall.push(latency);
          bySource.get(view.finalStatusSource ?? 'none')?.push(latency);
          (last.outcome.kind === 'ok' ? ok200 : late504).push(latency);
        }
      }
    }

    // Status checks, as the provider counted them (refused ones included).
    const checkTimes = tx?.statusChecks.atSeconds ?? [];
    checksPerTx.push(checkTimes.length);
    if (submissions.some((s) => s.outcome.kind !== 'ok')) {
      checksPerTimeoutCase.push(checkTimes.length);
    }
    ourChecks += view.statusChecks;
    if (finalAt !== null) checksAfterFinal += checkTimes.filter((at) => at > finalAt).length;

    // Webhooks: `sentAtSeconds` is when the provider started sending, so one sent after our
    // final status certainly arrived after it; one sent just before may have raced it.
    for (const webhook of tx?.webhooks ?? []) {
      webhooksSent += 1;
      if (finalAt === null) webhooksForUnsettled += 1;
      else if (webhook.sentAtSeconds > finalAt) webhookLead.push(webhook.sentAtSeconds - finalAt);
      else webhooksAtOrBefore += 1;
    }

    // POSTs: one per attempt, and a new attempt only once the previous one is proven lost.
    const posts = String(submissions.length);
    perIdHistogram[posts] = (perIdHistogram[posts] ?? 0) + 1;
    const postsMatch = input.instancesKilled
      ? submissions.length <= view.attempts
      : submissions.length === view.attempts;
    if (!postsMatch) {
      oneChargeProblems.push(
        `${view.id}: ${submissions.length} POSTs at the provider, ${view.attempts} attempts in our view`,
      );
    }
    if (submissions.length > input.maxAttempts) {
      oneChargeProblems.push(`${view.id}: ${submissions.length} POSTs > ${input.maxAttempts}`);
    }
    for (let i = 1; i < submissions.length; i++) {
      const previous = submissions[i - 1];
      const gapSeconds = submissions[i].receivedAtSeconds - previous.receivedAtSeconds;
      // The previous POST's record could still have appeared up to the late window's end.
      const ok = previous.outcome.kind === 'lost' && gapSeconds > input.lateAppearanceMaxSeconds;
      const previousIntent = intentAt(previous.attempt);
      const intent = intentAt(submissions[i].attempt);
      retries.push({
        clientId: view.id,
        attempt: i + 1,
        previousOutcome: previous.outcome.kind,
        gapSeconds,
        ourGapSeconds: previousIntent !== null && intent !== null ? intent - previousIntent : null,
        previousIntentToArrivalSeconds:
          previousIntent === null ? null : previous.receivedAtSeconds - previousIntent,
        ok,
      });
      if (previous.outcome.kind !== 'lost') {
        oneChargeProblems.push(
          `${view.id}: POST ${i + 1} followed a '${previous.outcome.kind}' POST: charged twice`,
        );
      } else if (!ok) {
        // No second charge this time, but a late record could still have appeared.
        oneChargeProblems.push(
          `${view.id}: POST ${i + 1} came ${gapSeconds.toFixed(1)} s after POST ${i}, inside ` +
            `its ${input.lateAppearanceMaxSeconds} s late window (unsafe retry)`,
        );
      }
    }

    // The final status must be what the provider decided.
    if (view.status !== 'PENDING') {
      if (!last) {
        // Every attempt was cut before it left (a killed worker, a send deadline passed): nothing
        // was charged, so the one true final status is the one a lost POST gets.
        if (view.status !== 'FAILED' || view.failureReason !== 'provider_lost') {
          truthProblems.push(
            `${view.id}: ${view.status}/${view.failureReason ?? '-'} but the provider never got a POST`,
          );
        }
      } else {
        const expected = expectedView(last);
        if (view.status !== expected.status || view.failureReason !== expected.reason) {
          truthProblems.push(
            `${view.id}: ours ${view.status}/${view.failureReason ?? '-'}, provider says ${expected.status}/${expected.reason ?? '-'}`,
          );
        }
      }
    }
  }

  const unknownProviderIds = truth.transactions.filter((t) => !ourProviderIds.has(t.id)).length;
  if (unknownProviderIds > 0) {
    oneChargeProblems.push(`${unknownProviderIds} provider ids are none of our transactions`);
  }
  const checks = truth.totals.statusChecks;
  const budgetProblems: string[] = [];
  if (input.statusBudgetPerSecond !== null && checks.maxInAnySecond > input.statusBudgetPerSecond) {
    budgetProblems.push(
      `${checks.maxInAnySecond} checks in one provider second > budget ${input.statusBudgetPerSecond}`,
    );
  }
  if (checks.rejected > 0) budgetProblems.push(`${checks.rejected} checks answered 429`);
  const lostProblems = [
    ...input.missing.map((clientId) => `${clientId}: accepted, never in the read model`),
    ...stragglers.map((s) => `${s.clientId}: still ${s.stage} after ${s.attempts} attempt(s)`),
  ];

  const gaps = retries.map((r) => r.gapSeconds);
  const verdict = (problems: string[]) => ({
    pass: problems.length === 0,
    problems: capped(problems),
  });
  return {
    transactions: views.length + input.missing.length,
    settled: views.length - stragglers.length,
    missing: input.missing,
    stragglers,
    reconciliation,
    outcomes: truth.totals.outcomes,
    unknownProviderIds,
    acceptToFirstPost: distribution(acceptToFirstPost),
    intentToArrival: distribution(intentToArrival),
    answerToFinal: {
      overall: distribution(overall),
      bySource: Object.fromEntries(
        [...bySource].map(([source, values]) => [source, distribution(values)]),
      ),
      byAnswer: { ok200: distribution(ok200), late504: distribution(late504) },
      unmeasured,
    },
    lostEveryAttempt: distribution(lostEvery),
    statusChecks: {
      all: distribution(checksPerTx),
      total: checksPerTx.reduce((sum, n) => sum + n, 0),
      timeoutCases: distribution(checksPerTimeoutCase),
      timeoutCasesTotal: checksPerTimeoutCase.reduce((sum, n) => sum + n, 0),
      ourTotal: ourChecks,
      afterFinal: checksAfterFinal,
      maxInAnySecond: checks.maxInAnySecond,
      budgetPerSecond: input.statusBudgetPerSecond,
      rejected429: checks.rejected,
      bans: checks.bans,
    },
    finalSources,
    webhooks: {
      sent: webhooksSent,
      afterFinal: webhookLead.length,
      atOrBeforeFinal: webhooksAtOrBefore,
      afterFinalBy: distribution(webhookLead),
      forUnsettled: webhooksForUnsettled,
    },
    posts: {
      perIdHistogram,
      total: truth.totals.submissions,
      idsSubmittedMoreThanOnce: truth.totals.idsSubmittedMoreThanOnce,
      retries,
      minRetryGapSeconds: gaps.length > 0 ? Math.min(...gaps) : null,
    },
    invariants: {
      oneCharge: verdict(oneChargeProblems),
      truthfulStatus: verdict(truthProblems),
      budgetKept: verdict(budgetProblems),
      nothingLost: verdict(lostProblems),
    },
  };
}

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
export function formatTable(rows: readonly (readonly string[])[], indent = '  '): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map(
      (row) =>
        indent +
        row
          .map((cell, column) =>
            column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
          )
          .join('  '),
    )
    .join('\n');
}
