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

const CONTRADICT_CHANCE = 0.1;
const FORGE_CHANCE = 0.2;

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The HTTP status the ledger's route answers with. */
const STATUS_OF = { recorded: 200, repeat: 200, refused: 401 } as const;

/**
 * The network between the provider and the ledger's webhook route. Each webhook the provider
 * sends (duplicated, held back or late by the provider's own faults) reaches a live node's route;
 * the faults here add, later, a report of the opposite status on the genuine URL once the ledger
 * has settled (a provider contradicting itself: a conflict case), and forgeries (a wrong token,
 * or a genuine URL with another id) that the ledger must refuse.
 */
export class WebhookDelivery {
  /** Contradictions still to send, and deliveries under way on a node that is up. */
  private contradictionsDue = 0;
  private readonly delivering = new Map<SimulatedNode, number>();

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

  /** The provider sends one webhook now; resolves to the route's HTTP status. */
  async send(url: string, report: WebhookReport): Promise<number> {
    if (this.strikes('webhook-contradict', CONTRADICT_CHANCE)) {
      const after = 30_000 + Math.floor(this.random.next() * 270_000);
      this.contradictionsDue += 1;
      setTimeout(() => {
        this.contradictionsDue -= 1;
        void this.contradict(url, report.id);
      }, after);
    }
    if (this.strikes('webhook-forged', FORGE_CHANCE)) void this.forge(url, report);
    return STATUS_OF[await this.deliver(url, report, 'webhook')];
  }

  /**
   * A webhook is still to come or on its way. A delivery to a node that crashed never ends (its
   * calls never settle) and has nothing more to do: it does not count.
   */
  get busy(): boolean {
    return this.contradictionsDue > 0 || [...this.delivering.keys()].some((node) => node.alive);
  }

  private strikes(fault: Parameters<FaultPlan['has']>[0], chance: number): boolean {
    if (!this.plan.has(fault) || this.random.next() >= chance) return false;
    this.counts.count(fault);
    return true;
  }

  private async deliver(
    url: string,
    report: WebhookReport,
    what: string,
    mustBeRefused = false,
  ): Promise<'recorded' | 'repeat' | 'refused'> {
    const node = this.liveNode();
    if (!node) {
      this.trace.note('provider', `${what} ${report.id} ${report.status}: no node up`);
      throw new Error('connection refused: no node up');
    }
    this.delivering.set(node, (this.delivering.get(node) ?? 0) + 1);
    let result: Awaited<ReturnType<SimulatedNode['receiveWebhook']>>;
    try {
      result = await node.receiveWebhook(url, report);
    } finally {
      const left = (this.delivering.get(node) ?? 1) - 1;
      if (left === 0) this.delivering.delete(node);
      else this.delivering.set(node, left);
    }
    this.trace.note('provider', `${what} ${report.id} ${report.status} on ${node.name}: ${result}`);
    if (mustBeRefused && result !== 'refused') {
      this.violated({
        invariant: 'forged-webhook-refused',
        detail: `a forged report on ${report.id} (${report.status}) was ${result}`,
      });
    }
    return result;
  }

  /** Later, the opposite of what the ledger settled on, on the genuine URL: a conflict case. */
  private async contradict(url: string, transactionId: string): Promise<void> {
    const state = await this.ledgerState(transactionId);
    if (!state.exists || state.status === 'PENDING' || state.reconciliation !== null) return;
    const status = state.status === 'SUCCEEDED' ? 'declined' : 'completed';
    await this.deliver(url, { id: transactionId, status }, 'contradiction').catch(
      (error: unknown) => this.trace.note('provider', `contradiction lost: ${String(error)}`),
    );
  }

  private async forge(url: string, report: WebhookReport): Promise<void> {
    const status = this.random.next() < 0.5 ? 'completed' : 'declined';
    const others = this.knownIds().filter((id) => id !== report.id);
    if (others.length > 0 && this.random.next() < 0.5) {
      const victim = others[Math.floor(this.random.next() * others.length)];
      await this.deliver(url, { id: victim, status }, 'forged id', true).catch(() => undefined);
      return;
    }
    const token = url.slice(url.lastIndexOf('/') + 1);
    const forged = Array.from(
      token,
      () => TOKEN_ALPHABET[Math.floor(this.random.next() * TOKEN_ALPHABET.length)],
    ).join('');
    const forgedUrl = `${url.slice(0, url.lastIndexOf('/') + 1)}${forged}`;
    await this.deliver(forgedUrl, { ...report, status }, 'forged token', true).catch(
      () => undefined,
    );
  }
}
