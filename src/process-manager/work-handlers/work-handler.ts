import type { StatusCheckGrant } from '../../provider/status-checks/budgeted-status-check';
import type { CausationContext } from '../../transactions/transaction-streams';
import type { ClaimedWork } from '../work-queue.port';

/** True when the work is done; otherwise when to try again, with a new payload if it changed. */
export type WorkOutcome = true | { retryAt: number; payload?: Record<string, unknown> };

/** Performs one kind of scheduled work; the worker completes or reschedules the item after. */
export interface WorkHandler {
  /** `grant`: the status-check budget's grant, given with a status check only. */
  perform(work: ClaimedWork, grant?: StatusCheckGrant): Promise<WorkOutcome>;
}

/**
 * The events a step appends are traced to the request that started the chain and the event that
 * planned the work (the planner put both in the payload).
 */
export function causationOf(work: ClaimedWork): CausationContext {
  const { correlationId, causationId } = work.payload;
  return {
    correlationId: typeof correlationId === 'string' ? correlationId : `work:${work.version}`,
    causationId: typeof causationId === 'string' ? causationId : `work:${work.version}`,
    actor: 'process-manager',
  };
}
