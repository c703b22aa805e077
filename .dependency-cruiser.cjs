/**
 * Which folder may import which: `npm run lint:boundaries`.
 *
 * dependency-cruiser rather than eslint import rules: the rules here are about the graph, not a
 * file at a time. A folder-level cycle ("no two folders import each other") cannot be seen from
 * one file, type-only imports count like any other (`tsPreCompilationDeps`), and each rule reads
 * as a from/to pair over paths, with a message saying what to do instead. eslint-plugin-import's
 * no-restricted-paths could express some of the path rules, but not the cycles, and its
 * resolver would be one more thing to keep in step with the TypeScript paths.
 */

/** Folders every feature may use; they import no feature. */
const BASE =
  '^src/(config|problem|shared|sqlite|http|logging|mongodb|event-store|projections|cli)/';
/** Files that wire adapters in: the service's composition root, and the CLIs' own. */
const COMPOSITION_ROOT = ['^src/[^/]+\\.ts$', '\\.cli\\.ts$'];
/** The pure core: no framework, no driver, no I/O. */
const DOMAIN = [
  '^src/transactions/transaction\\.(decider|state|events|commands|errors)\\.ts$',
  '^src/transactions/transaction-names\\.ts$',
  '^src/accounts/account\\.(decider|state|events|commands|errors)\\.ts$',
  '^src/process-manager/(process-manager|hold-settlement)\\.ts$',
  '^src/provider/status-checks/status-check-budget\\.ts$',
  '^src/event-store/hash-chain\\.ts$',
  '^src/provider-health/(provider-health|provider-observations|expected-time|provider-health\\.history)\\.ts$',
];
/**
 * Test files may wire anything (an adapter, a helper from test/), so they are left out of the
 * graph: the rules are about the code that ships. Leaving them in would also make a folder import
 * test/support through its contract suite and back, a cycle no shipped code has.
 */
const TEST_FILES = ['\\.spec\\.ts$', '\\.contract\\.ts$', '\\.containers\\.ts$', '\\.e2e\\.ts$'];
/** A store adapter's folder, inside its port's (`event-store/sqlite/`, `read-model/mongodb/`...). */
const ADAPTER_FOLDER = '^src/[^/]+/(sqlite|mongodb|eventstoredb)/';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'The decider and the pure reactions import no framework, driver or HTTP client: pass what they need in with the command (times, settings, results), and do the I/O in the handler, worker or adapter that calls them.',
      from: { path: DOMAIN },
      to: {
        path: [
          'node_modules/(@nestjs|@fastify|fastify|better-sqlite3|mongodb|@eventstore|undici)/',
          '^(node:)?(http|https|http2|net|tls|dgram|worker_threads|child_process)$',
        ],
      },
    },
    {
      name: 'domain-imports-no-adapter',
      severity: 'error',
      comment:
        'The pure core knows no adapter or plumbing folder: depend on the port (an abstract class or a type) in the feature folder, and let the adapter import the core instead.',
      from: { path: DOMAIN },
      to: { path: [ADAPTER_FOLDER, '^src/(sqlite|http|mongodb)/', '^src/[^/]+/http/'] },
    },
    {
      name: 'base-imports-no-feature',
      severity: 'error',
      comment:
        "A base folder (config, problem, shared, sqlite, http, logging, mongodb, event-store, projections, cli) must not depend on a feature: declare the shape or hook in the base folder and let the feature (or the composition root, src/*.ts) supply it, as the problem filter's DomainErrorProblem list and redactingLogger's redactUrl do.",
      from: { path: BASE },
      to: { path: '^src/', pathNot: BASE },
    },
    {
      name: 'features-reach-stores-through-ports',
      severity: 'error',
      comment:
        "Only a store adapter's own folder, its port's folder (importing the adapter's module, to choose it) and the composition root (src/*.ts, *.cli.ts) import an adapter: depend on the port (EventStore, ReadModel, WorkQueue...) and let the configuration choose.",
      from: { path: '^src/([^/]+)/', pathNot: [...COMPOSITION_ROOT, ADAPTER_FOLDER] },
      to: {
        path: ADAPTER_FOLDER,
        pathNot: '^src/$1/(sqlite|mongodb|eventstoredb)/[^/]+\\.module\\.ts$',
      },
    },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment:
        'Two folders under src/ import each other: decide which one is lower, and move what the lower one needs from the other into it (or into a base folder), or have it take a port or a callback the higher one supplies.',
      scope: 'folder',
      from: { path: '^src/[^/]+$' },
      to: { path: '^src/[^/]+$', circular: true },
    },
    {
      name: 'src-imports-no-test-code',
      severity: 'error',
      comment:
        'Code that ships imports nothing from test/: move the helper into src/ (beside what it serves), or import it only from a test file (*.spec.ts, *.contract.ts, *.containers.ts, *.e2e.ts).',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    exclude: { path: TEST_FILES },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
