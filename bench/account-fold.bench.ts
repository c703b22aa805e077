import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AccountEvent } from '../src/accounts/account.events';
import { fold } from '../src/accounts/account.state';

const USAGE = `Usage: npm run bench:account-fold -- [options]

Folds one customer's account stream of N events (a deposit now and then, every payment a hold
then its post or void) with the account's fold, and with the fold as it was before (every event
copied the deposits and holds records), printing events/s for each and their ratio. The copying
fold is quadratic: it runs on halving prefixes of the stream until one takes --copy-budget
seconds, and the ratio is taken at the largest size both folded.

  --events <n>         events in the stream (default 100000)
  --copy-budget <s>    stop growing the copying fold's input once one run takes this long (default 20)
`;

const AT = '2026-12-01T10:00:00.000Z';

/** A customer with `count` events: deposits every 50 payments, 1 in 10 payments failing. */
function customerStream(count: number): AccountEvent[] {
  const events: AccountEvent[] = [
    { type: 'AccountOpened', data: { owner: 'hot', currency: 'KES', openedAt: AT } },
  ];
  for (let payment = 0; events.length < count; payment++) {
    if (payment % 50 === 0) {
      events.push({
        type: 'FundsDeposited',
        data: { depositId: `dep-${payment}`, amount: 50_000, reference: 'top-up', at: AT },
      });
    }
    const holdId = `tx-${payment}`;
    events.push({ type: 'FundsHeld', data: { holdId, amount: 900, expiresAt: AT, at: AT } });
    events.push(
      payment % 10 === 0
        ? {
            type: 'HoldVoided',
            data: { holdId, amount: 900, reason: 'transaction_failed', at: AT },
          }
        : { type: 'HoldPosted', data: { holdId, amount: 900, at: AT } },
    );
  }
  return events.slice(0, count);
}

interface CopiedHold {
  amount: number;
  status: string;
}

/** The account fold before IdIndex, reduced to its bookkeeping: each event copies a record. */
function copyingFold(events: readonly AccountEvent[]) {
  let state = {
    posted: 0,
    pending: 0,
    deposits: {} as Readonly<Record<string, number>>,
    holds: {} as Readonly<Record<string, CopiedHold>>,
  };
  for (const event of events) {
    switch (event.type) {
      case 'FundsDeposited':
        state = {
          ...state,
          posted: state.posted + event.data.amount,
          deposits: { ...state.deposits, [event.data.depositId]: event.data.amount },
        };
        break;
      case 'FundsHeld':
        state = {
          ...state,
          pending: state.pending + event.data.amount,
          holds: {
            ...state.holds,
            [event.data.holdId]: { amount: event.data.amount, status: 'held' },
          },
        };
        break;
      case 'HoldPosted':
      case 'HoldVoided': {
        const posted = event.type === 'HoldPosted' ? event.data.amount : 0;
        const hold = state.holds[event.data.holdId];
        state = {
          ...state,
          posted: state.posted - posted,
          pending: state.pending - event.data.amount,
          holds: {
            ...state.holds,
            [event.data.holdId]: { ...hold, status: posted > 0 ? 'posted' : 'voided' },
          },
        };
        break;
      }
      default:
        break;
    }
  }
  return state;
}

/** Events per second of one fold, and its balances (so the work cannot be optimised away). */
function timed(run: () => { posted: number; pending: number }, events: number) {
  const start = performance.now();
  const { posted, pending } = run();
  const seconds = (performance.now() - start) / 1000;
  return { seconds, perSecond: events / seconds, posted, pending };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '100000' },
      'copy-budget': { type: 'string', default: '20' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const count = Number(values.events);
  const budget = Number(values['copy-budget']);
  if (!Number.isSafeInteger(count) || count < 2 || !(budget > 0)) {
    console.error(USAGE);
    return 2;
  }
  const stream = customerStream(count);
  const linearFold = () => {
    const state = fold(stream);
    if (!state.opened) throw new Error('the stream opened no account');
    return state;
  };
  // One warm-up, so the figure is the fold's and not the JIT's.
  linearFold();
  const linear = timed(linearFold, count);
  console.log(
    `fold (IdIndex): ${count.toLocaleString('en')} events in ${linear.seconds.toFixed(3)} s, ` +
      `${Math.round(linear.perSecond).toLocaleString('en')} events/s`,
  );

  const sizes: number[] = [];
  for (let size = count; size >= 1000; size = Math.floor(size / 2)) sizes.unshift(size);
  let compared: { size: number; copying: number; linear: number } | undefined;
  for (const size of sizes) {
    const prefix = stream.slice(0, size);
    const copying = timed(() => copyingFold(prefix), size);
    const linearPrefix = timed(() => {
      const state = fold(prefix);
      if (!state.opened) throw new Error('the stream opened no account');
      return state;
    }, size);
    if (copying.posted !== linearPrefix.posted || copying.pending !== linearPrefix.pending) {
      throw new Error(`the two folds disagree on ${size} events`);
    }
    console.log(
      `copying fold (before): ${size.toLocaleString('en')} events in ${copying.seconds.toFixed(3)} s, ` +
        `${Math.round(copying.perSecond).toLocaleString('en')} events/s ` +
        `(IdIndex on the same: ${Math.round(linearPrefix.perSecond).toLocaleString('en')} events/s)`,
    );
    compared = { size, copying: copying.perSecond, linear: linearPrefix.perSecond };
    if (copying.seconds >= budget) break;
  }
  if (compared !== undefined) {
    console.log(
      `ratio at ${compared.size.toLocaleString('en')} events: IdIndex is ` +
        `${(compared.linear / compared.copying).toFixed(1)}x the copying fold's events/s` +
        (compared.size < count
          ? ` (the copying fold stopped before ${count} events: over budget)`
          : ''),
    );
  }
  return 0;
}

process.exit(main());
