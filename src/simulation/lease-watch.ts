import type { ClaimedWork } from '../process-manager/work-queue.port';
import type { Violation } from './invariants';

/**
 * Leases as the shared stores grant them, watched across every node: a work item's lease renewed
 * for anyone but the holder of its current claim, or a named lease granted while another owner's
 * is unexpired, would let two nodes do one job at once ('exclusive-leases'). Fed with the stores'
 * own answers, before any injected fault hides them from the caller.
 */
export class LeaseWatch {
  private readonly holders = new Map<string, { owner: string; version: number }>();
  private readonly named = new Map<string, { owner: string; until: number }>();

  constructor(private readonly violated: (violation: Violation) => void) {}

  claimed(items: readonly ClaimedWork[]): void {
    for (const item of items) {
      this.holders.set(keyOf(item), { owner: item.leaseOwner, version: item.version });
    }
  }

  /** Completed, rescheduled or parked: the claim is over. */
  released(work: ClaimedWork): void {
    if (this.holders.get(keyOf(work))?.version === work.version) this.holders.delete(keyOf(work));
  }

  renewed(work: ClaimedWork, granted: boolean): void {
    const holder = this.holders.get(keyOf(work));
    if (!granted || (holder?.owner === work.leaseOwner && holder.version === work.version)) return;
    this.violated({
      invariant: 'exclusive-leases',
      detail: `the ${work.kind} lease of ${work.transactionId} was renewed for ${work.leaseOwner} (claim ${work.version}) while ${holder ? `${holder.owner} holds claim ${holder.version}` : 'no claim is open'}`,
    });
  }

  acquired(name: string, owner: string, now: number, leaseMs: number, granted: boolean): void {
    if (!granted) return;
    const current = this.named.get(name);
    if (current && current.owner !== owner && current.until > now) {
      this.violated({
        invariant: 'exclusive-leases',
        detail: `${name} granted to ${owner} while ${current.owner} holds it for ${current.until - now} ms more`,
      });
    }
    this.named.set(name, { owner, until: now + leaseMs });
  }

  releasedNamed(name: string, owner: string): void {
    if (this.named.get(name)?.owner === owner) this.named.delete(name);
  }
}

function keyOf(work: { transactionId: string; kind: string }): string {
  return `${work.transactionId}/${work.kind}`;
}
