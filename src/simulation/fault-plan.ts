import { Random } from '../shared/random';

/**
 * The classes of fault the simulator can inject, each enabled on its own (`--faults`) and counted
 * when it strikes. The provider's own misbehaviour (504s, outages, slow answers, 429 storms, lost
 * transactions) comes from the simulated provider's fault plan; the rest is injected by the
 * simulation around the real code.
 */
export const FAULT_CLASSES = [
  'provider-504s',
  'provider-outage',
  'provider-slow',
  'provider-429',
  'provider-lost',
  'webhook-duplicate',
  'webhook-reorder',
  'webhook-late',
  'webhook-contradict',
  'webhook-forged',
  'crash',
  'append-fail',
  'append-unknown',
  'append-conflict',
  'store-slow',
  'lease-race',
  'clock-jump',
  'send-stall',
] as const;

export type FaultClass = (typeof FAULT_CLASSES)[number];

const KNOWN: ReadonlySet<string> = new Set(FAULT_CLASSES);

/** What `--faults` asked for: a random subset per seed, every class, none, or a list. */
export type FaultSelection =
  { kind: 'mix' } | { kind: 'all' } | { kind: 'none' } | { kind: 'list'; classes: FaultClass[] };

export class FaultSelectionError extends Error {}

export function parseFaultSelection(text: string): FaultSelection {
  if (text === 'mix' || text === 'all' || text === 'none') return { kind: text };
  const classes = text.split(',').map((name) => name.trim());
  const unknown = classes.filter((name) => !KNOWN.has(name));
  if (classes.length === 0 || unknown.length > 0) {
    throw new FaultSelectionError(
      `--faults: unknown fault class ${unknown.join(', ') || '(empty)'}; use mix, all, none or a comma-separated list of ${FAULT_CLASSES.join(', ')}`,
    );
  }
  return { kind: 'list', classes: classes as FaultClass[] };
}

/**
 * The faults of one seed: which classes are on. `draw` always takes the same numbers from its
 * source whatever the selection, so a seed run under `mix` replays exactly under the explicit list
 * it printed.
 */
export class FaultPlan {
  private constructor(readonly enabled: ReadonlySet<FaultClass>) {}

  static draw(selection: FaultSelection, random: Random): FaultPlan {
    const coin = FAULT_CLASSES.map(() => random.next() < 0.5);
    switch (selection.kind) {
      case 'all':
        return new FaultPlan(new Set(FAULT_CLASSES));
      case 'none':
        return new FaultPlan(new Set());
      case 'list':
        return new FaultPlan(new Set(selection.classes));
      case 'mix':
        return new FaultPlan(new Set(FAULT_CLASSES.filter((_, index) => coin[index])));
    }
  }

  has(fault: FaultClass): boolean {
    return this.enabled.has(fault);
  }

  /** The `--faults` argument that replays this plan. */
  toArgument(): string {
    if (this.enabled.size === 0) return 'none';
    if (this.enabled.size === FAULT_CLASSES.length) return 'all';
    return FAULT_CLASSES.filter((fault) => this.enabled.has(fault)).join(',');
  }
}

/** How often each class struck in a run. */
export class FaultCounts {
  private readonly counts = new Map<FaultClass, number>();

  count(fault: FaultClass): void {
    this.counts.set(fault, (this.counts.get(fault) ?? 0) + 1);
  }

  of(fault: FaultClass): number {
    return this.counts.get(fault) ?? 0;
  }

  add(other: FaultCounts): void {
    for (const fault of FAULT_CLASSES) {
      const n = other.of(fault);
      if (n > 0) this.counts.set(fault, this.of(fault) + n);
    }
  }
}
