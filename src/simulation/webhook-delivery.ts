import { Random } from '../shared/random';
import type { TransactionState } from '../transactions/transaction.state';
import { FaultCounts, FaultPlan } from './fault-plan';
import type { Violation } from './invariants';
import { SimulatedNode } from './simulated-node';
import { SimulationTrace } from './simulation-trace';

export interface WebhookReport {
  id: string;
  status: string;
}

const DUPLICATE_CHANCE = 0.2;
const REORDER_CHANCE = 0.3;
const LATE_CHANCE = 0.15;
const CONTRADICT_CHANCE = 0.1;
const FORGE_CHANCE = 0.2;

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The network between the provider and the ledger's webhook route: each webhook the provider
 * sends reaches a live node, unless the faults have it duplicated, held back (so later ones
 * overtake it), delivered minutes late, contradicted later by a report of the opposite status
 * on the genuine URL, or joined by a forgery (a wrong token, or a genuine URL with another id)
 * that the ledger must refuse.
 */
export class WebhookDelivery {
  constructor(
    private readonly plan: FaultPlan,
    private readonly random: Random,
    private readonly counts: FaultCounts,
    private readonly trace: SimulationTrace,
    private readonly liveNode: () => SimulatedNode | null,
    private readonly ledgerState: (transactionId: string) => Promise<TransactionState>,
    private readonly knownIds: () => readonly string[],
    private readonly violated: (violation: Violation) => void,
  ) {}

  /** The provider sends one webhook now. */
  send(url: string, report: WebhookReport): void {
    let delay = 0;
    if (this.strikes('webhook-late', LATE_CHANCE)) {
      delay = 60_000 + Math.floor(this.random.next() * 540_000);
    } else if (this.strikes('webhook-reorder', REORDER_CHANCE)) {
      delay = Math.floor(this.random.next() * 30_000);
    }
    this.deliverAfter(delay, url, report, 'webhook');
    if (this.strikes('webhook-duplicate', DUPLICATE_CHANCE)) {
      this.deliverAfter(delay + Math.floor(this.random.next() * 20_000), url, report, 'duplicate');
    }
    if (this.strikes('webhook-contradict', CONTRADICT_CHANCE)) {
      const after = 30_000 + Math.floor(this.random.next() * 270_000);
      setTimeout(() => void this.contradict(url, report.id), after);
    }
    if (this.strikes('webhook-forged', FORGE_CHANCE)) this.forge(url, report);
  }

  private strikes(fault: Parameters<FaultPlan['has']>[0], chance: number): boolean {
    if (!this.plan.has(fault) || this.random.next() >= chance) return false;
    this.counts.count(fault);
    return true;
  }

  private deliverAfter(ms: number, url: string, report: WebhookReport, what: string): void {
    setTimeout(() => this.deliver(url, report, what), ms);
  }

  private deliver(
    url: string,
    report: WebhookReport,
    what: string,
    mustBeRefused = false,
  ): void {
    const node = this.liveNode();
    if (!node) {
      this.trace.note('provider', `${what} ${report.id} ${report.status}: no node up, lost`);
      return;
    }
    node.receiveWebhook(url, report).then(
      (result) => {
        this.trace.note('provider', `${what} ${report.id} ${report.status} on ${node.name}: ${result}`);
        if (mustBeRefused && result !== 'refused') {
          this.violated({
            invariant: 'forged-webhook-refused',
            detail: `a forged report on ${report.id} (${report.status}) was ${result}`,
          });
        }
      },
      (error: unknown) =>
        this.trace.note('provider', `${what} ${report.id} on ${node.name} failed: ${String(error)}`),
    );
  }

  /** Later, the opposite of what the ledger settled on, on the genuine URL: a conflict case. */
  private async contradict(url: string, transactionId: string): Promise<void> {
    const state = await this.ledgerState(transactionId);
    if (!state.exists || state.status === 'PENDING' || state.reconciliation !== null) return;
    const status = state.status === 'SUCCEEDED' ? 'declined' : 'completed';
    this.deliver(url, { id: transactionId, status }, 'contradiction');
  }

  private forge(url: string, report: WebhookReport): void {
    const status = this.random.next() < 0.5 ? 'completed' : 'declined';
    const others = this.knownIds().filter((id) => id !== report.id);
    if (others.length > 0 && this.random.next() < 0.5) {
      const victim = others[Math.floor(this.random.next() * others.length)];
      this.deliver(url, { id: victim, status }, 'forged id', true);
      return;
    }
    const token = url.slice(url.lastIndexOf('/') + 1);
    const forged = Array.from(
      token,
      () => TOKEN_ALPHABET[Math.floor(this.random.next() * TOKEN_ALPHABET.length)],
    ).join('');
    this.deliver(`${url.slice(0, url.lastIndexOf('/') + 1)}${forged}`, { ...report, status }, 'forged token', true);
  }
}
