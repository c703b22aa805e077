// @ts-check
/**
 * `npm run openapi:coverage -- FILE`: sums what an e2e run recorded with
 * OPENAPI_RESPONSES_FILE=FILE (test/support/contract-check.ts): how many responses were checked
 * against openapi.json, per operation and status, and which documented operations no test met.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const file = process.argv[2];
if (!file) {
  console.error('Usage: npm run openapi:coverage -- <file written with OPENAPI_RESPONSES_FILE>');
  process.exit(2);
}
const entries = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));
/** @type {Map<string, Map<number, number>>} */
const byOperation = new Map();
let unrouted = 0;
for (const entry of entries) {
  if (entry.unrouted) {
    unrouted += 1;
    continue;
  }
  const statuses = byOperation.get(entry.operation) ?? new Map();
  statuses.set(entry.status, (statuses.get(entry.status) ?? 0) + 1);
  byOperation.set(entry.operation, statuses);
}
const document = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8'));
const documented = Object.values(document.paths).flatMap((item) =>
  Object.values(item).map((operation) => operation.operationId),
);
console.log(`${entries.length - unrouted} responses checked against openapi.json`);
console.log(`${byOperation.size} of ${documented.length} operations met:`);
for (const [operation, statuses] of [...byOperation].sort()) {
  const counts = [...statuses].sort().map(([status, count]) => `${status}×${count}`);
  console.log(`  ${operation}: ${counts.join(' ')}`);
}
const missed = documented.filter((operation) => !byOperation.has(operation));
console.log(`not met: ${missed.length ? missed.join(', ') : 'none'}`);
console.log(`${unrouted} responses to requests no documented route matches (not checked)`);
