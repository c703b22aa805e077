// Probes once for a container runtime so that container suites can skip cleanly where none
// exists (this repository's own machines have only the docker client). The answer reaches the
// test workers through an environment variable; CONTAINER_TESTS=force|skip overrides the probe.
module.exports = async function containerRuntimeGlobalSetup() {
  if (process.env.CONTAINER_TESTS === 'force' || process.env.CONTAINER_TESTS === 'skip') {
    process.env.CONTAINER_RUNTIME = process.env.CONTAINER_TESTS === 'force' ? 'yes' : 'no';
  } else {
    const { getContainerRuntimeClient } = require('testcontainers');
    try {
      await getContainerRuntimeClient();
      process.env.CONTAINER_RUNTIME = 'yes';
    } catch {
      process.env.CONTAINER_RUNTIME = 'no';
    }
  }
  if (process.env.CONTAINER_RUNTIME === 'no') {
    console.log(
      '\n[container tests] No container runtime found: the EventStoreDB and MongoDB suites ' +
        '(*.containers.ts) are SKIPPED. They run wherever Docker/Podman works, or set CONTAINER_TESTS=force.',
    );
  }
};
