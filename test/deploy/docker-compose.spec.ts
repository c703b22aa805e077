import 'reflect-metadata';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { PATH_METADATA } from '@nestjs/common/constants';
import { AppConfig, ConfigError } from '../../src/config/app-config';
import { HealthController } from '../../src/health/health.controller';
import { providerSimulatorConfigFromEnvironment } from '../../src/provider-simulator/provider-simulator.config';
import { startProviderSimulator } from '../../src/provider-simulator/provider-simulator';
import {
  HEARTBEAT_MS,
  StreamTransactionController,
} from '../../src/transactions/stream-transaction/stream-transaction.controller';
import {
  ComposeFile,
  ComposeService,
  InterpolationError,
  Variables,
  commandOf,
  composeSeconds,
  dependenciesOf,
  environmentOf,
  healthcheckArgs,
  healthcheckCommand,
  interpolate,
  loadComposeFile,
  publishedPorts,
  requiredVariables,
} from './compose-file';
import {
  DockerStage,
  copyOf,
  envOf,
  execForm,
  instructionsOf,
  parseDockerfile,
} from './dockerfile';
import {
  NginxDirective,
  blockOf,
  directivesNamed,
  effectiveArgs,
  locationFor,
  nginxBytes,
  nginxSeconds,
  parseNginxConfig,
} from './nginx-config';

/**
 * No container can start on the development machines, so the deploy files are read the way
 * compose, Docker and nginx read them and checked against what the service itself accepts: its
 * real configuration parsers and its real routes.
 */

const ROOT = join(__dirname, '..', '..');
const COMPOSE_PATH = join(ROOT, 'docker-compose.yml');
const DOCKERFILE_PATH = join(ROOT, 'Dockerfile');
const NGINX_PATH = join(ROOT, 'deploy', 'nginx.conf');
const ENV_EXAMPLE_PATH = join(ROOT, '.env.example');

const SERVICES = {
  eventStore: 'eventstore',
  mongo: 'mongo',
  simulator: 'provider-simulator',
  ledger: 'ledger',
  loadBalancer: 'lb',
} as const;

/** What a user puts in `.env`: both secrets, long enough for the service. */
const TEST_SECRETS: Variables = {
  AUTH_JWT_SECRET: 'compose-test-jwt-secret-0123456789abcdef',
  WEBHOOK_SECRET: 'compose-test-webhook-secret-0123456789abcdef',
};

const SIMULATOR_ENTRY_POINT = 'dist/src/provider-simulator/main.js';

function serviceNamed(compose: ComposeFile, name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** `/controller-path/handler-path`, as Nest registers the route. */
function routeOf(controller: object, handler: object): string {
  const parts: unknown[] = [
    Reflect.getMetadata(PATH_METADATA, controller),
    Reflect.getMetadata(PATH_METADATA, handler),
  ];
  const segments = parts.map((part) => String(part).replace(/^\/+|\/+$/g, '')).filter(Boolean);
  return `/${segments.join('/')}`;
}

/** The variables a configuration parser reads, to find the ones it ignores (typos, leftovers). */
function variablesRead(parse: (env: Variables) => unknown, env: Variables): Set<string> {
  const read = new Set<string>();
  const recording = new Proxy(env, {
    get(target, name, receiver) {
      if (typeof name === 'string') read.add(name);
      return Reflect.get(target, name, receiver) as unknown;
    },
  });
  parse(recording);
  return read;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

function portOf(url: URL): string {
  return url.port || DEFAULT_PORTS[url.protocol] || '';
}

/** `--flag value` or `--flag=value` from an argument list. */
function flagValue(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  if (at >= 0) return args[at + 1];
  return args.find((arg) => arg.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

function loadDeployFiles(variables: Variables) {
  const compose = loadComposeFile(COMPOSE_PATH, variables);
  const ledgerEnv = environmentOf(serviceNamed(compose, SERVICES.ledger));
  const simulatorEnv = environmentOf(serviceNamed(compose, SERVICES.simulator));
  const [lbPort] = publishedPorts(serviceNamed(compose, SERVICES.loadBalancer));
  return {
    compose,
    service: (name: string) => serviceNamed(compose, name),
    ledgerEnv,
    ledgerConfig: AppConfig.fromEnvironment(ledgerEnv),
    simulatorEnv,
    simulatorConfig: providerSimulatorConfigFromEnvironment(simulatorEnv),
    lbTargetPort: lbPort?.target,
  };
}

describe('the helpers that read the deploy files', () => {
  it('interpolate as compose does', () => {
    const variables = { SET: 'value', EMPTY: '' };
    expect(interpolate('${SET:-d} ${EMPTY:-d} ${UNSET:-d} ${EMPTY-d} ${UNSET-d}', variables)).toBe(
      'value d d  d',
    );
    expect(interpolate('$$SET ${SET:+alt} ${EMPTY:+alt} $SET ${UNSET}', variables)).toBe(
      '$SET alt  value ',
    );
    expect(interpolate('${EMPTY?ok}', variables)).toBe('');
    expect(() => interpolate('${EMPTY:?must be set}', variables)).toThrow(/EMPTY.*must be set/);
    expect(() => interpolate('${UNSET?must be set}', variables)).toThrow(/UNSET/);
    expect(() => interpolate('cost: 5$', variables)).toThrow(InterpolationError);
    expect(requiredVariables('${A:?x} ${B?y} ${C:-z} ${A:?again}')).toEqual(['A', 'B']);
  });

  it('pick the location nginx picks', () => {
    const [server] = parseNginxConfig(`server {
      location / { a; }
      location /v1/ { b; }
      location ~ ^/v1/[^/]+/stream$ { c; }
      location ^~ /static/ { d; }
      location ~ \\.css$ { e; }
      location = /exact { f; }
    }`);
    const served = (uri: string) => blockOf(locationFor(blockOf(server), uri)!)[0].name;
    expect(['/', '/v1/x', '/v1/x/stream', '/static/a.css', '/b.css', '/exact'].map(served)).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'],
    );
    expect(nginxSeconds('1m30s')).toBe(90);
    expect(nginxBytes('2m')).toBe(2 * 1024 * 1024);
  });
});

describe('docker-compose.yml', () => {
  let deploy: ReturnType<typeof loadDeployFiles>;

  beforeAll(() => {
    deploy = loadDeployFiles(TEST_SECRETS);
  });

  it('declares the five services and no obsolete `version` key', () => {
    expect(Object.keys(deploy.compose.services).sort()).toEqual(Object.values(SERVICES).sort());
    expect(deploy.compose.raw).not.toHaveProperty('version');
  });

  it('gives every service a healthcheck of its own', () => {
    const without = Object.values(deploy.compose.services)
      .filter((service) => healthcheckCommand(service) === null)
      .map((service) => service.name);
    expect({ servicesWithoutHealthcheck: without }).toEqual({ servicesWithoutHealthcheck: [] });
  });

  it('runs two ledger replicas that publish no port and have no fixed container name', () => {
    const ledger = deploy.service(SERVICES.ledger);
    expect({
      replicas: (ledger.raw.deploy as { replicas?: unknown } | undefined)?.replicas,
      publishedPorts: publishedPorts(ledger),
      // A container_name allows one container: the second replica could not start.
      containerName: ledger.raw.container_name,
    }).toEqual({ replicas: 2, publishedPorts: [], containerName: undefined });
  });

  it('starts the ledger only once every service it connects to is healthy', () => {
    const { EVENTSTOREDB_CONNECTION_STRING, MONGODB_URL, PROVIDER_URL } = deploy.ledgerEnv;
    const backing = [EVENTSTOREDB_CONNECTION_STRING, MONGODB_URL, PROVIDER_URL].map(
      (url) => new URL(url).hostname,
    );
    expect(backing).toEqual([SERVICES.eventStore, SERVICES.mongo, SERVICES.simulator]);
    const dependencies = dependenciesOf(deploy.service(SERVICES.ledger));
    expect(
      Object.fromEntries(backing.map((name) => [name, dependencies[name] ?? 'no dependency'])),
    ).toEqual(Object.fromEntries(backing.map((name) => [name, 'service_healthy'])));
  });

  it('publishes one port, the load balancer, and nothing else (the stores have no auth)', () => {
    expect(publishedPorts(deploy.service(SERVICES.loadBalancer))).toHaveLength(1);
    const others = Object.values(deploy.compose.services)
      .filter((service) => service.name !== SERVICES.loadBalancer)
      .filter((service) => publishedPorts(service).length > 0)
      .map((service) => service.name);
    expect({ otherServicesPublishing: others }).toEqual({ otherServicesPublishing: [] });
  });

  it('refuses to start unless both secrets are set and non-empty', () => {
    expect(() => loadComposeFile(COMPOSE_PATH, {})).toThrow(InterpolationError);
    const withEmptyJwtSecret = { ...TEST_SECRETS, AUTH_JWT_SECRET: '' };
    expect(() => loadComposeFile(COMPOSE_PATH, withEmptyJwtSecret)).toThrow(/AUTH_JWT_SECRET/);
    const withoutWebhookSecret = { ...TEST_SECRETS, WEBHOOK_SECRET: undefined };
    expect(() => loadComposeFile(COMPOSE_PATH, withoutWebhookSecret)).toThrow(/WEBHOOK_SECRET/);
  });

  it('gives the ledger a configuration the service accepts: production, EventStoreDB, MongoDB', () => {
    const config = deploy.ledgerConfig;
    expect({
      nodeEnv: config.nodeEnv,
      role: config.role,
      eventStore: config.eventStore,
      readModel: config.readModel,
      jwtSecret: config.auth.jwtSecret,
      webhookSecret: config.webhooks.secret,
    }).toEqual({
      nodeEnv: 'production',
      role: 'both',
      eventStore: 'eventstoredb',
      readModel: 'mongodb',
      jwtSecret: TEST_SECRETS.AUTH_JWT_SECRET,
      webhookSecret: TEST_SECRETS.WEBHOOK_SECRET,
    });
  });

  it('sets no variable that the ledger or the simulator would ignore', () => {
    const ledgerRead = variablesRead((env) => AppConfig.fromEnvironment(env), deploy.ledgerEnv);
    const simulatorRead = variablesRead(
      providerSimulatorConfigFromEnvironment,
      deploy.simulatorEnv,
    );
    expect({
      ledger: Object.keys(deploy.ledgerEnv).filter((name) => !ledgerRead.has(name)),
      simulator: Object.keys(deploy.simulatorEnv).filter((name) => !simulatorRead.has(name)),
    }).toEqual({ ledger: [], simulator: [] });
  });

  it('connects the ledger to the eventstore service, without TLS exactly when it runs insecure', () => {
    const eventStore = deploy.service(SERVICES.eventStore);
    const env = environmentOf(eventStore);
    const nodePort = env.KURRENTDB_NODE_PORT ?? '2113';
    const url = new URL(deploy.ledgerConfig.eventStoreDb!.connectionString);
    expect({
      host: url.hostname,
      port: url.port || '2113',
      tls: url.searchParams.get('tls') ?? 'true',
      healthcheck: healthcheckCommand(eventStore),
    }).toEqual({
      host: SERVICES.eventStore,
      port: nodePort,
      tls: env.KURRENTDB_INSECURE === 'true' ? 'false' : 'true',
      healthcheck: expect.stringContaining(`127.0.0.1:${nodePort}/info`),
    });
  });

  it('runs no KurrentDB projection: the ledger uses none, and their links would bloat $all', () => {
    const env = environmentOf(deploy.service(SERVICES.eventStore));
    // KurrentDB's defaults: no projections run, the standard ones are not started.
    expect({
      run: (env.KURRENTDB_RUN_PROJECTIONS ?? 'None').toLowerCase(),
      startStandard: (env.KURRENTDB_START_STANDARD_PROJECTIONS ?? 'false').toLowerCase(),
    }).toEqual({ run: 'none', startStandard: 'false' });
  });

  it('connects the ledger to the replica set the mongo service initiates under its own name', () => {
    const mongo = deploy.service(SERVICES.mongo);
    const args = commandOf(mongo) ?? [];
    const port = flagValue(args, '--port') ?? '27017';
    const replicaSet = flagValue(args, '--replSet');
    const url = new URL(deploy.ledgerConfig.mongo!.url);
    expect({
      host: url.hostname,
      port: url.port || '27017',
      replicaSet: url.searchParams.get('replicaSet'),
      bindsAllInterfaces: args.includes('--bind_ip_all'),
    }).toEqual({ host: SERVICES.mongo, port, replicaSet, bindsAllInterfaces: true });

    const healthcheck = healthcheckCommand(mongo) ?? '';
    const initiate =
      /rs\.initiate\(\{\s*_id:\s*'([^']+)',\s*members:\s*\[\{\s*_id:\s*0,\s*host:\s*'([^']+)'\s*\}\]\s*\}\)/.exec(
        healthcheck,
      );
    expect({
      initiates: initiate?.slice(1, 3),
      onlyWhenUninitiated: /catch[^{]*\{[^}]*rs\.initiate/.test(healthcheck),
      healthyOnlyAsPrimary: /isWritablePrimary/.test(healthcheck),
    }).toEqual({
      initiates: [replicaSet, `${SERVICES.mongo}:${port}`],
      onlyWhenUninitiated: true,
      healthyOnlyAsPrimary: true,
    });
  });

  it('connects the ledger to the simulator, which listens on every interface', () => {
    const url = new URL(deploy.ledgerConfig.provider.url!);
    expect({
      host: url.hostname,
      port: Number(portOf(url)),
      simulatorHost: deploy.simulatorConfig.host,
      healthcheck: healthcheckCommand(deploy.service(SERVICES.simulator)),
    }).toEqual({
      host: SERVICES.simulator,
      port: deploy.simulatorConfig.port,
      simulatorHost: '0.0.0.0',
      healthcheck: expect.stringContaining(`127.0.0.1:${deploy.simulatorConfig.port}/`),
    });
  });

  it("runs the simulator at the speed the ledger's provider timings assume", () => {
    const { options } = deploy.simulatorConfig;
    const realMs = (providerSeconds: number) => providerSeconds * options.timeScale * 1000;
    const { policy } = deploy.ledgerConfig.provider;
    expect({
      gatewayTimeoutMs: policy.gatewayTimeoutMs,
      lateWindowCoversLateAppearances:
        policy.lateWindowMs >= realMs(options.lateAppearanceSeconds.max),
    }).toEqual({
      gatewayTimeoutMs: realMs(options.timeoutDelaySeconds),
      lateWindowCoversLateAppearances: true,
    });
  });

  it('has the provider send its webhooks to the load balancer', () => {
    const url = new URL(deploy.ledgerConfig.provider.publicBaseUrl);
    expect({ host: url.hostname, port: portOf(url) }).toEqual({
      host: SERVICES.loadBalancer,
      port: deploy.lbTargetPort,
    });
  });

  it('lets a stopping replica drain before compose kills it', () => {
    const ledger = deploy.service(SERVICES.ledger);
    // Compose's default grace period is 10 s.
    const grace = composeSeconds(ledger.raw.stop_grace_period ?? '10s', 'ledger.stop_grace_period');
    expect(grace).toBeGreaterThan(deploy.ledgerConfig.shutdownTimeoutMs / 1000);
  });

  it('probes routes the service serves, on the ports where they are served', () => {
    const ready = routeOf(HealthController, HealthController.prototype.ready);
    const live = routeOf(HealthController, HealthController.prototype.live);
    expect({
      ledger: healthcheckCommand(deploy.service(SERVICES.ledger)),
      lb: healthcheckCommand(deploy.service(SERVICES.loadBalancer)),
    }).toEqual({
      ledger: expect.stringContaining(`127.0.0.1:${deploy.ledgerConfig.port}${ready}`),
      lb: expect.stringContaining(`127.0.0.1:${deploy.lbTargetPort}${live}`),
    });
  });

  it('builds the ledger and the simulator from the Dockerfile; the simulator runs its own entry', () => {
    const built = [SERVICES.ledger, SERVICES.simulator].map((name) => {
      const build = deploy.service(name).raw.build as Record<string, unknown> | undefined;
      const context = typeof build?.context === 'string' ? build.context : '<none>';
      const dockerfile = typeof build?.dockerfile === 'string' ? build.dockerfile : 'Dockerfile';
      return { name, dockerfile: join(ROOT, context, dockerfile) };
    });
    expect(built).toEqual([
      { name: SERVICES.ledger, dockerfile: DOCKERFILE_PATH },
      { name: SERVICES.simulator, dockerfile: DOCKERFILE_PATH },
    ]);
    expect({
      ledger: commandOf(deploy.service(SERVICES.ledger)),
      simulator: commandOf(deploy.service(SERVICES.simulator)),
    }).toEqual({ ledger: null, simulator: ['node', SIMULATOR_ENTRY_POINT] });
  });
});

describe('deploy/nginx.conf', () => {
  let deploy: ReturnType<typeof loadDeployFiles>;
  let http: NginxDirective[];
  let listening: NginxDirective[][];
  let server: NginxDirective[];
  let upstreams: NginxDirective[];

  beforeAll(() => {
    deploy = loadDeployFiles(TEST_SECRETS);
    const [httpBlock] = directivesNamed(parseNginxConfig(readFileSync(NGINX_PATH, 'utf8')), 'http');
    if (!httpBlock) throw new Error('deploy/nginx.conf has no http block');
    http = blockOf(httpBlock);
    upstreams = directivesNamed(http, 'upstream');
    listening = directivesNamed(http, 'server')
      .map(blockOf)
      .filter((block) =>
        directivesNamed(block, 'listen').some((listen) => listen.args[0] === deploy.lbTargetPort),
      );
    server = listening[0] ?? [];
  });

  /** The ledger instances a location's proxy_pass reaches, as `host:port`. */
  function proxiedTo(location: NginxDirective): string[] {
    // proxy_pass is not inherited: only the location's own counts.
    const [target] = effectiveArgs([blockOf(location)], 'proxy_pass') ?? [];
    const name = /^http:\/\/([^/:]+)/.exec(target ?? '')?.[1];
    const upstream = upstreams.find((u) => u.args[0] === name);
    if (!upstream) return [target ?? 'no proxy_pass'];
    return directivesNamed(blockOf(upstream), 'server').map((s) => s.args[0]);
  }

  it('listens on the container port the load balancer publishes (and webhook URLs name)', () => {
    expect({ serversListeningOn: deploy.lbTargetPort, count: listening.length }).toEqual({
      serversListeningOn: deploy.lbTargetPort,
      count: 1,
    });
  });

  it('sends every location to the ledger service, on the port the ledger listens on', () => {
    const locations = directivesNamed(server, 'location');
    expect(locations.length).toBeGreaterThan(0);
    expect(locations.map(proxiedTo)).toEqual(
      locations.map(() => [`${SERVICES.ledger}:${deploy.ledgerConfig.port}`]),
    );
    expect(locationFor(server, '/v1/transactions')).not.toBeNull();
  });

  it('forwards the client address to replicas that trust only the proxy, and only the proxy reaches them', () => {
    const proxyHeaders = directivesNamed(server, 'location').map(
      (location) =>
        directivesNamed(blockOf(location), 'proxy_set_header')
          .concat(
            directivesNamed(server, 'proxy_set_header'),
            directivesNamed(http, 'proxy_set_header'),
          )
          .find((header) => header.args[0].toLowerCase() === 'x-forwarded-for')?.args[1],
    );
    expect(proxyHeaders.every((value) => value === '$proxy_add_x_forwarded_for')).toBe(true);
    // One hop: the peer is nginx. Safe only while no client can reach a replica directly.
    expect(deploy.ledgerConfig.trustProxy).toBe(1);
    expect(publishedPorts(deploy.service(SERVICES.ledger))).toEqual([]);
  });

  it("re-resolves the replicas through Docker's DNS and balances over all of them", () => {
    const resolver = effectiveArgs([http], 'resolver') ?? [];
    const ledgerUpstreams = upstreams.filter((u) =>
      directivesNamed(blockOf(u), 'server').some((s) =>
        s.args[0].startsWith(`${SERVICES.ledger}:`),
      ),
    );
    expect(ledgerUpstreams).toHaveLength(1);
    const block = blockOf(ledgerUpstreams[0]);
    expect({
      resolver: resolver.includes('127.0.0.11'),
      // `resolve` keeps every A record current; it needs a shared zone or nginx will not start.
      resolve: directivesNamed(block, 'server').every((s) => s.args.includes('resolve')),
      zone: directivesNamed(block, 'zone').length,
      // These pin a client to one replica; the simulator, the only webhook sender, is one client.
      pinning: ['ip_hash', 'hash', 'sticky'].filter((m) => directivesNamed(block, m).length > 0),
    }).toEqual({ resolver: true, resolve: true, zone: 1, pinning: [] });
  });

  it('streams Server-Sent Events unbuffered, with a read timeout above the heartbeat', () => {
    const route = routeOf(
      StreamTransactionController,
      StreamTransactionController.prototype.stream,
    );
    const uri = route.replace(/:[^/]+/g, 'order-1001');
    expect(uri).toBe('/v1/transactions/order-1001/stream');
    const location = locationFor(server, uri);
    expect(location).not.toBeNull();
    const scopes = [http, server, blockOf(location!)];
    const readTimeout = nginxSeconds(effectiveArgs(scopes, 'proxy_read_timeout')?.[0] ?? '60s');
    expect({
      proxiedTo: proxiedTo(location!),
      buffering: effectiveArgs(scopes, 'proxy_buffering')?.[0] ?? 'on',
      readTimeoutAboveHeartbeat: readTimeout > HEARTBEAT_MS / 1000,
    }).toEqual({
      proxiedTo: [`${SERVICES.ledger}:${deploy.ledgerConfig.port}`],
      buffering: 'off',
      readTimeoutAboveHeartbeat: true,
    });
  });

  it('holds a long-poll as long as the ledger may, and passes bodies as large as it accepts', () => {
    const location = locationFor(server, '/v1/transactions/order-1001');
    const scopes = [http, server, blockOf(location!)];
    const readTimeout = nginxSeconds(effectiveArgs(scopes, 'proxy_read_timeout')?.[0] ?? '60s');
    const bodyLimit = nginxBytes(effectiveArgs(scopes, 'client_max_body_size')?.[0] ?? '1m');
    expect({
      readTimeoutAboveLongestWait: readTimeout > deploy.ledgerConfig.maxWaitSeconds,
      bodyLimitAboveLedgers: bodyLimit >= deploy.ledgerConfig.maxBodyBytes,
    }).toEqual({ readTimeoutAboveLongestWait: true, bodyLimitAboveLedgers: true });
  });
});

describe('Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(DOCKERFILE_PATH, 'utf8'));
  const runtime = stages[stages.length - 1];
  const buildStages = stages.slice(0, -1);

  /** WORKDIR in force before the instruction at `index` of `stage`. */
  function workdirAt(stage: DockerStage, index: number): string {
    return stage.instructions
      .slice(0, index)
      .filter((i) => i.keyword === 'WORKDIR')
      .reduce((dir, i) => posix.resolve(dir, i.args), '/');
  }

  /**
   * The file of the build context (this repository, built) that ends up at `path` of the final
   * stage, following COPY --from back to the build stage; null when none is copied there.
   */
  function builtFileAt(path: string): string | null {
    for (const [index, instruction] of runtime.instructions.entries()) {
      if (instruction.keyword !== 'COPY') continue;
      const copy = copyOf(instruction);
      const source = stages.find((stage) => stage.name === copy.from);
      if (!source || copy.sources.length !== 1) continue;
      const destination = posix.resolve(workdirAt(runtime, index), copy.destination);
      if (!path.startsWith(`${destination}/`)) continue;
      const sourceDir = workdirAt(source, source.instructions.length);
      const copied = posix.resolve(sourceDir, copy.sources[0], path.slice(destination.length + 1));
      return posix.relative(sourceDir, copied);
    }
    return null;
  }

  const cmd = () => execForm(instructionsOf(runtime, 'CMD').at(-1)?.args ?? '') ?? [];

  it('builds in one stage and runs in another, as a user who is not root', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = instructionsOf(runtime, 'USER').at(-1)?.args.split(':')[0] ?? 'root';
    expect(['root', '0']).not.toContain(user);
  });

  it('runs in production mode and exposes the port the ledger listens on', () => {
    const deploy = loadDeployFiles(TEST_SECRETS);
    const env = instructionsOf(runtime, 'ENV').map((i) => i.args);
    expect(env.join(' ')).toMatch(/\bNODE_ENV=production\b/);
    const exposed = instructionsOf(runtime, 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    expect(exposed.map((port) => port.replace(/\/tcp$/, ''))).toContain(
      String(deploy.ledgerConfig.port),
    );
  });

  it('listens on every interface in a container, where the service alone keeps to loopback', () => {
    const deploy = loadDeployFiles(TEST_SECRETS);
    const imageEnv = { ...envOf(runtime), ...TEST_SECRETS, PROVIDER_URL: 'http://provider:4010' };
    expect({
      serviceAlone: AppConfig.fromEnvironment({}).host,
      image: AppConfig.fromEnvironment(imageEnv).host,
      composeLedger: deploy.ledgerConfig.host,
      composeSimulator: deploy.simulatorConfig.host,
    }).toEqual({
      serviceAlone: '127.0.0.1',
      image: '0.0.0.0',
      composeLedger: '0.0.0.0',
      composeSimulator: '0.0.0.0',
    });
  });

  it('checks its health with node (slim images have no curl) on the live route', () => {
    const [healthcheck] = instructionsOf(runtime, 'HEALTHCHECK');
    expect(healthcheck).toBeDefined();
    const command = execForm(healthcheck.args.replace(/^(--\S+\s+)*CMD\s+/, ''));
    expect(command?.[0]).toBe('node');
    expect(command?.join(' ')).toContain(
      routeOf(HealthController, HealthController.prototype.live),
    );
  });

  it('runs the ledger and the simulator from files that `nest build` produces and it copies', () => {
    const [program, entry] = cmd();
    expect(program).toBe('node');
    const workdir = workdirAt(runtime, runtime.instructions.length);
    const entries = [entry, SIMULATOR_ENTRY_POINT].map((file) => ({
      file,
      copiedFrom: builtFileAt(posix.resolve(workdir, file)),
    }));
    expect(entries).toEqual([
      { file: 'dist/src/main.js', copiedFrom: 'dist/src/main.js' },
      { file: SIMULATOR_ENTRY_POINT, copiedFrom: SIMULATOR_ENTRY_POINT },
    ]);
    const missing = entries.map((e) => e.file).filter((file) => !existsSync(join(ROOT, file)));
    if (missing.length > 0) {
      throw new Error(`not built: ${missing.join(', ')} (run \`npx nest build\`, as pretest does)`);
    }
  });

  it('installs with every install script off, then builds only the packages allowScripts allows', () => {
    const runs = buildStages.flatMap((stage) => instructionsOf(stage, 'RUN').map((i) => i.args));
    const commands = runs.flatMap((run) => run.split(/\s*&&\s*/));
    const at = (pattern: RegExp) => commands.findIndex((command) => pattern.test(command));
    const aptInstall = commands.find((command) => /apt-get install/.test(command)) ?? '';
    const npmPin = /npm install -g "?npm@([^"\s]+)/.exec(runs.join('\n'))?.[1];
    const rebuilt = commands
      .filter((command) => /^npm rebuild\b/.test(command))
      .flatMap((command) =>
        command
          .split(/\s+/)
          .slice(2)
          .filter((word) => !word.startsWith('-')),
      );
    const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      allowScripts?: Record<string, boolean>;
    };
    const allowed = Object.entries(packageJson.allowScripts ?? {})
      .filter(([, allow]) => allow)
      .map(([name]) => name);
    expect({
      toolchain: ['python3', 'make', 'g++'].filter((tool) =>
        aptInstall.split(/\s+/).includes(tool),
      ),
      // npm 11 only records allowScripts: a plain `npm ci` would run every install script.
      ciIgnoresScripts: commands.filter(
        (c) => /^npm ci\b/.test(c) && !/--ignore-scripts\b/.test(c),
      ),
      rebuilt: rebuilt.sort(),
      rebuiltAfterCi: at(/^npm rebuild\b/) > at(/^npm ci\b/),
      // An exact release, so that a rebuild installs the npm that was checked to exist.
      npmPinnedExactly: /^\d+\.\d+\.\d+$/.test(npmPin ?? ''),
      npmBeforeCi:
        at(/npm install -g "?npm@/) >= 0 && at(/npm install -g "?npm@/) < at(/^npm ci\b/),
      pruned: at(/npm run build/) >= 0 && at(/npm prune --omit=dev/) >= at(/npm run build/),
    }).toEqual({
      toolchain: ['python3', 'make', 'g++'],
      ciIgnoresScripts: [],
      rebuilt: allowed.sort(),
      rebuiltAfterCi: true,
      npmPinnedExactly: true,
      npmBeforeCi: true,
      pruned: true,
    });
    expect(allowed).toContain('better-sqlite3');
  });

  it("installs the way CI installs, so that every CI run exercises the image's install", () => {
    const installCommands = (text: string) =>
      text
        .split('\n')
        .flatMap((line) => line.split(/\s*&&\s*/))
        .map((command) => command.trim())
        .filter((command) => /^npm (ci|rebuild)\b/.test(command))
        .map((command) => command.replace(/\s+--no-(audit|fund)\b/g, ''));
    const runs = buildStages.flatMap((stage) => instructionsOf(stage, 'RUN').map((i) => i.args));
    expect(installCommands(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'))).toEqual(
      installCommands(runs.join('\n')),
    );
  });

  it('leaves node_modules, dist and secrets out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    expect(['node_modules', 'dist', '.env'].filter((entry) => !ignored.includes(entry))).toEqual(
      [],
    );
  });
});

describe('.env.example', () => {
  const text = readFileSync(ENV_EXAMPLE_PATH, 'utf8');
  const parseEnvFile = (content: string): Variables =>
    Object.fromEntries(
      content
        .split('\n')
        .filter((line) => /^[A-Za-z_]\w*=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );

  it('names every variable compose requires', () => {
    const required = requiredVariables(readFileSync(COMPOSE_PATH, 'utf8'));
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((name) => !(name in parseEnvFile(text)))).toEqual([]);
  });

  it('holds placeholders the service refuses, so a copy left as it is cannot start', () => {
    const compose = loadComposeFile(COMPOSE_PATH, parseEnvFile(text));
    const start = () => AppConfig.fromEnvironment(environmentOf(serviceNamed(compose, 'ledger')));
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/AUTH_JWT_SECRET[\s\S]*WEBHOOK_SECRET/);
  });

  it('shows a command that generates secrets the service accepts', () => {
    const command = /^#.*\bnode -e "([^"]+)" > \.env$/m.exec(text);
    expect(command).not.toBeNull();
    const generated = parseEnvFile(
      execFileSync(process.execPath, ['-e', command![1]], { encoding: 'utf8' }),
    );
    expect(Object.keys(generated).sort()).toEqual(
      requiredVariables(readFileSync(COMPOSE_PATH, 'utf8')).sort(),
    );
    expect(() => loadDeployFiles(generated)).not.toThrow();
  });
});

describe('the healthcheck scripts, run against a server', () => {
  const runFile = promisify(execFile);
  let deploy: ReturnType<typeof loadDeployFiles>;

  beforeAll(() => {
    deploy = loadDeployFiles(TEST_SECRETS);
  });

  function nodeScript(args: string[] | null, where: string): string {
    if (args?.length !== 3 || args[0] !== 'node' || args[1] !== '-e') {
      throw new Error(`${where}: expected ["node", "-e", script], got ${JSON.stringify(args)}`);
    }
    return args[2];
  }

  /** The script's exit code, run as the container would run it, with `env` added. */
  async function exitCode(script: string, env: Record<string, string> = {}): Promise<number> {
    try {
      await runFile(process.execPath, ['-e', script], {
        env: { ...process.env, ...env },
        timeout: 10_000,
      });
      return 0;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return typeof code === 'number' ? code : -1;
    }
  }

  /** A server answering `status` (and `body`) to everything, recording the paths asked for. */
  async function stubServer(status: () => number, body: () => string = () => '') {
    const paths: string[] = [];
    const server = createServer((request, response) => {
      paths.push(request.url ?? '');
      response.statusCode = status();
      response.end(body());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      paths,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it("the ledger's: healthy on 2xx from the ready route only", async () => {
    const script = nodeScript(healthcheckArgs(deploy.service(SERVICES.ledger)), 'ledger');
    let status = 200;
    const stub = await stubServer(() => status);
    try {
      const local = script.replace(`:${deploy.ledgerConfig.port}/`, `:${stub.port}/`);
      expect(local).not.toBe(script);
      const healthy = await exitCode(local);
      status = 503;
      const unhealthy = await exitCode(local);
      expect({ healthy, unhealthy, paths: stub.paths }).toEqual({
        healthy: 0,
        unhealthy: 1,
        paths: Array(2).fill(routeOf(HealthController, HealthController.prototype.ready)),
      });
    } finally {
      await stub.close();
    }
  });

  it("the event store's: healthy only while KurrentDB's /info says this node is the leader", async () => {
    const args = healthcheckArgs(deploy.service(SERVICES.eventStore));
    if (args?.[0] !== '/bin/sh' || args[1] !== '-c') {
      throw new Error(`eventstore: expected a CMD-SHELL healthcheck, got ${JSON.stringify(args)}`);
    }
    // /info as KurrentDB's InfoController writes it (indented JSON, the state in lower case).
    const info = (state: string) =>
      JSON.stringify({ dbVersion: '26.1.1', esVersion: '26.1.1', state, features: {} }, null, 2);
    let status = 200;
    let body = info('leader');
    const stub = await stubServer(
      () => status,
      () => body,
    );
    const shell = async (script: string) => {
      try {
        await runFile('/bin/sh', ['-c', script], { timeout: 10_000 });
        return 0;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        return typeof code === 'number' ? code : -1;
      }
    };
    try {
      const local = args[2].replace(':2113/', `:${stub.port}/`);
      expect(local).not.toBe(args[2]);
      const leader = await shell(local);
      body = info('follower');
      const follower = await shell(local);
      body = info('unknown');
      const starting = await shell(local);
      status = 503;
      body = info('leader');
      const failing = await shell(local);
      expect({ leader, follower, starting, failing, path: stub.paths[0] }).toEqual({
        leader: 0,
        follower: 1,
        starting: 1,
        failing: 1,
        path: '/info',
      });
    } finally {
      await stub.close();
    }
  });

  it("the image's: healthy on 2xx from the live route, on PORT", async () => {
    const stages = parseDockerfile(readFileSync(DOCKERFILE_PATH, 'utf8'));
    const [healthcheck] = instructionsOf(stages[stages.length - 1], 'HEALTHCHECK');
    const script = nodeScript(
      execForm(healthcheck?.args.replace(/^(--\S+\s+)*CMD\s+/, '') ?? ''),
      'Dockerfile HEALTHCHECK',
    );
    let status = 204;
    const stub = await stubServer(() => status);
    try {
      const healthy = await exitCode(script, { PORT: String(stub.port) });
      status = 500;
      const unhealthy = await exitCode(script, { PORT: String(stub.port) });
      expect({ healthy, unhealthy, paths: stub.paths }).toEqual({
        healthy: 0,
        unhealthy: 1,
        paths: Array(2).fill(routeOf(HealthController, HealthController.prototype.live)),
      });
    } finally {
      await stub.close();
    }
  });

  it("the simulator's: healthy while the real simulator answers, unhealthy once it is gone", async () => {
    const script = nodeScript(healthcheckArgs(deploy.service(SERVICES.simulator)), 'simulator');
    const simulator = await startProviderSimulator({ port: 0 });
    const local = script.replace(
      `:${deploy.simulatorConfig.port}/`,
      `:${new URL(simulator.url).port}/`,
    );
    expect(local).not.toBe(script);
    try {
      expect(await exitCode(local)).toBe(0);
      // A probe leaves no trace in the ground truth that tests and audits read.
      const truth = simulator.truth();
      expect({
        statusChecks: truth.totals.statusChecks.received,
        transactions: truth.transactions.length,
      }).toEqual({ statusChecks: 0, transactions: 0 });
    } finally {
      await simulator.close();
    }
    expect(await exitCode(local)).toBe(1);
  });
});
