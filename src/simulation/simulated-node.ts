import { AccountStreams } from '../accounts/account-streams';
import { DepositFundsHandler } from '../accounts/deposit-funds/deposit-funds.handler';
import { SetOverdraftLimitHandler } from '../accounts/set-overdraft-limit/set-overdraft-limit.handler';
import { AppConfig } from '../config/app-config';
import { EventStore } from '../event-store/event-store.port';
import { CheckpointedSchedule } from '../process-manager/checkpointed-schedule.port';
import { ClientNotifier } from '../process-manager/client-notifier';
import { NamedLeases } from '../process-manager/named-leases.port';
import { ProcessManagerProjection } from '../process-manager/process-manager.projection';
import { ProcessManagerWorker } from '../process-manager/process-manager.worker';
import { CheckHandler } from '../process-manager/work-handlers/check.handler';
import { DeadlineHandler } from '../process-manager/work-handlers/deadline.handler';
import { NotifyHandler } from '../process-manager/work-handlers/notify.handler';
import { SettleHandler } from '../process-manager/work-handlers/settle.handler';
import { SubmitHandler } from '../process-manager/work-handlers/submit.handler';
import { WorkHandlers } from '../process-manager/work-handlers/work-handlers';
import { WorkQueue } from '../process-manager/work-queue.port';
import { PaymentProvider } from '../provider/payment-provider.port';
import { BudgetedStatusCheck } from '../provider/status-checks/budgeted-status-check';
import { StatusCheckBudget } from '../provider/status-checks/status-check-budget.port';
import { RecordProviderReportHandler } from '../provider-webhooks/record-provider-report.handler';
import { REPORTED_STATUSES } from '../provider-webhooks/provider-report.dto';
import { RecordProviderReportCommand } from '../provider-webhooks/record-provider-report.command';
import { WEBHOOK_ROUTE, WebhookUrls } from '../provider-webhooks/webhook-urls';
import { Ids } from '../shared/ids';
import { Random } from '../shared/random';
import { Clock } from '../shared/clock';
import { RetryParkedWorkHandler } from '../support/parked-work/retry-parked-work.handler';
import { ResolveTransactionHandler } from '../support/resolve-transaction/resolve-transaction.handler';
import { RequestTransactionHandler } from '../transactions/request-transaction/request-transaction.handler';
import { TransactionFunds } from '../transactions/transaction-funds';
import { TransactionStreams } from '../transactions/transaction-streams';
import {
  FaultyEventStore,
  FaultyNamedLeases,
  FaultyStatusCheckBudget,
  FaultyWorkStore,
} from './faulty-stores';
import { FaultyProvider } from './faulty-provider';
import { LeaseWatch } from './lease-watch';
import { NodeFaults } from './node-faults';

/** The stores every node shares, each opened afresh by a node that starts (its own instance). */
export interface SharedStores {
  openEventStore(): EventStore;
  workStore: WorkQueue & CheckpointedSchedule;
  leases: NamedLeases;
  budget: StatusCheckBudget;
  /** Watches every lease the stores grant, across nodes. */
  leaseWatch: LeaseWatch;
}

/** What one node is built from besides the stores. */
export interface NodeParts {
  config: AppConfig;
  clock: Clock;
  random: Random;
  ids: Ids;
  provider: PaymentProvider;
  webhookUrls: WebhookUrls;
}

/**
 * One instance of the service in the simulation: the real handlers, process manager worker and
 * planner, built with `new` over the node's faulty view of the shared stores. Its commands are
 * what the HTTP routes would run; its worker runs on virtual time until the node crashes.
 */
export class SimulatedNode {
  readonly request: RequestTransactionHandler;
  readonly deposit: DepositFundsHandler;
  readonly setOverdraftLimit: SetOverdraftLimitHandler;
  readonly recordReport: RecordProviderReportHandler;
  readonly resolve: ResolveTransactionHandler;
  readonly retryParked: RetryParkedWorkHandler;
  readonly workQueue: WorkQueue;
  private readonly worker: ProcessManagerWorker;
  private readonly webhookUrls: WebhookUrls;
  private webhooksReceived = 0;

  constructor(
    readonly faults: NodeFaults,
    stores: SharedStores,
    { config, clock, random, ids, provider: sharedProvider, webhookUrls }: NodeParts,
  ) {
    const provider = new FaultyProvider(sharedProvider, faults);
    const eventStore = new FaultyEventStore(stores.openEventStore(), faults);
    const workStore = new FaultyWorkStore(stores.workStore, faults, stores.leaseWatch);
    const leases = new FaultyNamedLeases(stores.leases, faults, stores.leaseWatch);
    const budget = new FaultyStatusCheckBudget(stores.budget, faults);
    const streams = new TransactionStreams(eventStore, ids);
    const accounts = new AccountStreams(eventStore, random, ids);
    const funds = new TransactionFunds(accounts, streams, clock, config);
    const statusCheck = new BudgetedStatusCheck(provider, budget, clock, config);

    this.request = new RequestTransactionHandler(streams, funds, clock);
    this.deposit = new DepositFundsHandler(accounts, clock);
    this.setOverdraftLimit = new SetOverdraftLimitHandler(accounts, clock);
    this.recordReport = new RecordProviderReportHandler(streams, clock);
    this.resolve = new ResolveTransactionHandler(streams, statusCheck, clock);
    this.retryParked = new RetryParkedWorkHandler(workStore, clock);
    this.workQueue = workStore;
    this.webhookUrls = webhookUrls;

    const handlers = new WorkHandlers(
      new SubmitHandler(streams, funds, provider, webhookUrls, clock, random, config),
      new CheckHandler(streams, statusCheck, clock, random, config),
      new DeadlineHandler(streams, clock),
      new NotifyHandler(streams, new ClientNotifier(config, clock), clock, random),
      new SettleHandler(streams, accounts, clock, config),
    );
    const planning = new ProcessManagerProjection(workStore, config);
    this.worker = new ProcessManagerWorker(
      workStore,
      handlers,
      statusCheck,
      planning,
      clock,
      config,
      eventStore,
      leases,
      ids,
    );
  }

  get name(): string {
    return this.faults.name;
  }

  get alive(): boolean {
    return this.faults.alive;
  }

  /**
   * A webhook POSTed to `url`, checked as ProviderWebhookController.capabilityReport checks it
   * (the capability token, then the body's id against the URL's), then recorded by the real
   * report handler. 'refused' is the 4xx a forged or mismatched report gets.
   */
  async receiveWebhook(
    url: string,
    report: { id: string; status: string },
  ): Promise<'recorded' | 'repeat' | 'refused'> {
    const path = new URL(url).pathname.split('/').filter((part) => part !== '');
    const route = WEBHOOK_ROUTE.split('/');
    const [transactionId, token, ...rest] = path.slice(route.length);
    const isRoute = route.every((part, index) => path[index] === part);
    if (!isRoute || rest.length > 0 || transactionId === undefined || token === undefined) {
      return 'refused';
    }
    if (!this.webhookUrls.isValid(transactionId, token) || report.id !== transactionId) {
      return 'refused';
    }
    const status = REPORTED_STATUSES.find((known) => known === report.status);
    if (status === undefined) return 'refused';
    this.webhooksReceived += 1;
    const correlationId = `${this.name}-webhook-${this.webhooksReceived}`;
    const recorded = await this.recordReport.execute(
      new RecordProviderReportCommand(transactionId, status, null, {
        correlationId,
        causationId: correlationId,
        actor: 'provider',
      }),
    );
    return recorded ? 'recorded' : 'repeat';
  }

  /** Starts the worker and its planner, as the service's bootstrap does. */
  start(): Promise<void> {
    return this.worker.onApplicationBootstrap();
  }
}
