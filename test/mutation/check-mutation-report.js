// Reads Stryker's JSON report (mutation-testing-report-schema) and fails the run when a file of
// the domain core scores below its threshold, or when a mutant is left alive that
// stryker.survivors.json does not explain. Stryker's own `thresholds.break` is one global score;
// the decider and the smaller files need their own.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

// `npm run test:mutation` runs this from the package root, where Stryker wrote its report.
const root = process.cwd();
const REPORT = join(root, 'reports', 'mutation', 'mutation.json');
const SURVIVORS = join(root, 'stryker.survivors.json');

/** Minimum score per mutated file, in percent: killed / (killed + survived + no coverage). */
const THRESHOLDS = {
  'src/transactions/transaction.decider.ts': 90,
  'src/transactions/transaction.state.ts': 90,
  'src/transactions/transaction.events.ts': 90,
  'src/transactions/transaction.errors.ts': 90,
  'src/process-manager/process-manager.ts': 95,
  'src/process-manager/hold-settlement.ts': 95,
  'src/provider/status-checks/status-check-budget.ts': 95,
  'src/event-store/hash-chain.ts': 95,
  'src/accounts/account.decider.ts': 90,
  'src/accounts/account.state.ts': 90,
  'src/accounts/account.events.ts': 90,
  'src/accounts/account.errors.ts': 90,
};

const DETECTED = new Set(['Killed', 'Timeout']);
const ALIVE = new Set(['Survived', 'NoCoverage']);

/** The mutated source text, whitespace collapsed: survives reformatting and moved lines. */
function originalSnippet(source, { start, end }) {
  const lines = source.split('\n');
  const text =
    start.line === end.line
      ? lines[start.line - 1].slice(start.column - 1, end.column - 1)
      : [
          lines[start.line - 1].slice(start.column - 1),
          ...lines.slice(start.line, end.line - 1),
          lines[end.line - 1].slice(0, end.column - 1),
        ].join('\n');
  return collapse(text);
}

const collapse = (text) => text.replace(/\s+/g, ' ').trim();
const keyOf = (m) =>
  JSON.stringify([m.file, m.mutator, collapse(m.original), collapse(m.replacement)]);

function main() {
  const report = JSON.parse(readFileSync(REPORT, 'utf8'));
  const listed = JSON.parse(readFileSync(SURVIVORS, 'utf8')).survivors;
  const unexplained = new Map();
  for (const entry of listed) {
    if (!entry.reason || !entry.reason.trim()) {
      throw new Error(`stryker.survivors.json: no reason given for ${keyOf(entry)}`);
    }
    unexplained.set(keyOf(entry), (unexplained.get(keyOf(entry)) ?? 0) + 1);
  }

  const problems = [];
  const seen = new Set();
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    seen.add(file);
    const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
    const alive = mutants.filter((m) => ALIVE.has(m.status));
    const score = (100 * detected) / (detected + alive.length || 1);
    const threshold = THRESHOLDS[file];
    const line = `${file}: ${detected} killed, ${alive.length} alive, score ${score.toFixed(1)}%`;
    if (threshold === undefined) {
      problems.push(`${line}: no threshold set for this file`);
    } else if (score < threshold) {
      problems.push(`${line}: below its threshold of ${threshold}%`);
    } else {
      console.log(`${line} (threshold ${threshold}%)`);
    }
    for (const mutant of alive) {
      const found = {
        file,
        mutator: mutant.mutatorName,
        original: originalSnippet(source, mutant.location),
        replacement: mutant.replacement ?? '',
      };
      const key = keyOf(found);
      const left = unexplained.get(key) ?? 0;
      if (left > 0) {
        unexplained.set(key, left - 1);
      } else {
        const where = `${file}:${mutant.location.start.line}:${mutant.location.start.column}`;
        problems.push(
          `${mutant.status} mutant not listed in stryker.survivors.json (${where}): ` +
            JSON.stringify(found),
        );
      }
    }
  }
  for (const file of Object.keys(THRESHOLDS)) {
    if (!seen.has(file)) problems.push(`${file}: not in the mutation report`);
  }
  // An entry no mutant matches any more claims a survivor that is gone: the list stays exact.
  for (const [key, left] of unexplained) {
    if (left > 0) problems.push(`listed in stryker.survivors.json but no longer alive: ${key}`);
  }

  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exitCode = 1;
  }
}

main();
