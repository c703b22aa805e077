import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * docker-compose.yml read the way `docker compose` reads it, as far as the deploy test needs:
 * YAML parsed, then every string value interpolated from the given variables (the shell and
 * `.env`), with the Compose Specification's rules for `${VAR:?err}`, `${VAR:-default}` and the
 * rest. Accessors normalise the short and long syntaxes and fail with the service's name.
 */

export type ComposeFile = {
  services: Record<string, ComposeService>;
  raw: Record<string, unknown>;
};
export type ComposeService = { name: string; raw: Record<string, unknown> };
export type Variables = Record<string, string | undefined>;

export class InterpolationError extends Error {}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const REFERENCE = new RegExp(
  `\\$(?:\\$|(${NAME})|\\{(${NAME})(?:(:?[-?+])([^}]*))?\\}|(\\{[^}]*\\}?|))`,
  'g',
);

/** One string interpolated as compose does; throws what compose prints for `${VAR:?err}`. */
export function interpolate(text: string, variables: Variables): string {
  return text.replace(
    REFERENCE,
    (
      whole: string,
      bare: string | undefined,
      braced: string | undefined,
      operator: string | undefined,
      operand: string | undefined,
      bad: string | undefined,
    ) => {
      if (whole === '$$') return '$';
      // Like compose, a `$` that starts no reference is an error, not a literal.
      if (bad !== undefined) throw new InterpolationError(`invalid interpolation format: ${whole}`);
      const name = bare ?? braced ?? '';
      const value = variables[name];
      // With a colon, empty counts as missing too.
      const present = value !== undefined && !(operator?.startsWith(':') && value === '');
      switch (operator?.replace(':', '')) {
        case '-':
          return present ? value : interpolate(operand ?? '', variables);
        case '?':
          if (!present) {
            throw new InterpolationError(
              `required variable ${name} is missing a value: ${operand}`,
            );
          }
          return value;
        case '+':
          return present ? interpolate(operand ?? '', variables) : '';
        default:
          // Compose warns and substitutes an empty string.
          return value ?? '';
      }
    },
  );
}

/** The names `${NAME:?...}` / `${NAME?...}` make compulsory, wherever they appear. */
export function requiredVariables(text: string): string[] {
  const names = [...text.matchAll(new RegExp(`\\$\\{(${NAME}):?\\?`, 'g'))].map((m) => m[1]);
  return [...new Set(names)];
}

function interpolateTree(value: unknown, variables: Variables): unknown {
  if (typeof value === 'string') return interpolate(value, variables);
  if (Array.isArray(value)) return value.map((item) => interpolateTree(item, variables));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateTree(item, variables)]),
    );
  }
  return value;
}

export function loadComposeFile(path: string, variables: Variables): ComposeFile {
  const parsed: unknown = parse(readFileSync(path, 'utf8'));
  const raw = asRecord(interpolateTree(parsed, variables), path);
  const services = asRecord(raw.services, `${path}: services`);
  return {
    raw,
    services: Object.fromEntries(
      Object.entries(services).map(([name, service]) => [
        name,
        { name, raw: asRecord(service, `service ${name}`) },
      ]),
    ),
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (!isRecord(value))
    throw new Error(`${where}: expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

function scalarText(value: unknown, where: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new Error(`${where}: expected a scalar, got ${JSON.stringify(value)}`);
}

/**
 * `environment:` as the container sees it. A name without a value (`- NAME` or `NAME:`) would be
 * taken from the shell running compose; the deploy files never rely on that, so it is an error.
 */
export function environmentOf(service: ComposeService): Record<string, string> {
  const environment = service.raw.environment ?? {};
  const where = `service ${service.name}: environment`;
  const entries: [string, unknown][] = Array.isArray(environment)
    ? environment.map((item) => {
        const text = scalarText(item, where);
        const at = text.indexOf('=');
        return at < 0 ? [text, null] : [text.slice(0, at), text.slice(at + 1)];
      })
    : Object.entries(asRecord(environment, where));
  return Object.fromEntries(
    entries.map(([name, value]) => {
      if (value === null || value === undefined) {
        throw new Error(`${where}: ${name} has no value and would be taken from the shell`);
      }
      return [name, scalarText(value, `${where}: ${name}`)];
    }),
  );
}

export type PortMapping = { published: string | null; target: string };

/** `ports:` in either syntax; a mapping without a host port is still published (on a random one). */
export function publishedPorts(service: ComposeService): PortMapping[] {
  const ports = service.raw.ports ?? [];
  const where = `service ${service.name}: ports`;
  if (!Array.isArray(ports)) throw new Error(`${where}: expected a list`);
  return ports.map((port) => {
    if (isRecord(port)) {
      return {
        published: port.published === undefined ? null : scalarText(port.published, where),
        target: scalarText(port.target, where),
      };
    }
    const short = /^(?:(?:\[[^\]]+\]|[\d.]+):)?(?:([\d-]+):)?([\d-]+)(?:\/(?:tcp|udp))?$/.exec(
      scalarText(port, where),
    );
    if (!short) throw new Error(`${where}: cannot read ${JSON.stringify(port)}`);
    return { published: short[1] ?? null, target: short[2] };
  });
}

/** `depends_on:` as service -> condition (the list syntax means `service_started`). */
export function dependenciesOf(service: ComposeService): Record<string, string> {
  const dependsOn = service.raw.depends_on ?? {};
  const where = `service ${service.name}: depends_on`;
  if (Array.isArray(dependsOn)) {
    return Object.fromEntries(
      dependsOn.map((name) => [scalarText(name, where), 'service_started']),
    );
  }
  return Object.fromEntries(
    Object.entries(asRecord(dependsOn, where)).map(([name, options]) => [
      name,
      scalarText(asRecord(options, `${where}: ${name}`).condition ?? 'service_started', where),
    ]),
  );
}

/**
 * The healthcheck's command as an argument list (after CMD), or null when there is none or it is
 * disabled. (A service without one may still inherit the image's HEALTHCHECK; the deploy files
 * never rely on that, so that counts as none.)
 */
export function healthcheckArgs(service: ComposeService): string[] | null {
  if (service.raw.healthcheck === undefined) return null;
  const where = `service ${service.name}: healthcheck`;
  const healthcheck = asRecord(service.raw.healthcheck, where);
  if (healthcheck.disable === true) return null;
  const test = healthcheck.test;
  if (typeof test === 'string') return ['/bin/sh', '-c', test];
  if (!Array.isArray(test) || test.length < 2 || test[0] === 'NONE') return null;
  const args = test.slice(1).map((part) => scalarText(part, `${where}.test`));
  return test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', args.join(' ')] : args;
}

/** The healthcheck's command as one line of text, or null (see healthcheckArgs). */
export function healthcheckCommand(service: ComposeService): string | null {
  return healthcheckArgs(service)?.join(' ') ?? null;
}

/** `command:` as an argument list (the string form is split on spaces, like compose does). */
export function commandOf(service: ComposeService): string[] | null {
  const command = service.raw.command;
  if (command === undefined || command === null) return null;
  const where = `service ${service.name}: command`;
  if (Array.isArray(command)) return command.map((part) => scalarText(part, where));
  return scalarText(command, where).split(/\s+/).filter(Boolean);
}

/** A compose duration ("15s", "1m30s", "500ms") in seconds. */
export function composeSeconds(value: unknown, where: string): number {
  const text = scalarText(value, where);
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`${where}: cannot read the duration "${text}"`);
  }
  return parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * units[unit], 0);
}
