// Reading a service's environment once at start: each reader returns the value or its
// default and notes what is wrong, so `done()` throws one error naming every bad variable.
import { existsSync } from 'node:fs';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

export interface EnvReader {
  str(name: string, fallback: string): string;
  optionalStr(name: string): string | undefined;
  int(name: string, fallback: number, min: number, max: number): number;
  /** A path that must exist when given. */
  file(name: string): string | undefined;
  /** host:port[,host:port...] */
  brokers(name: string, fallback: string[]): string[];
  url(name: string, fallback: string, protocols: string[]): string;
  /** A role name; `none` stands for no role of its own (the login role is used as it is). */
  role(name: string, fallback: string): string | null;
  /** Notes a problem the readers above cannot see (a file's content, two variables that go together). */
  problem(text: string): void;
  bad(name: string, value: string, expected: string): void;
  /** Throws one ConfigError listing every problem noted. */
  done(): void;
}

export function envReader(env: Env): EnvReader {
  const problems: string[] = [];
  const raw = (name: string) => env[name]?.trim() || undefined;
  const bad = (name: string, value: string, expected: string) => {
    problems.push(`${name}=${JSON.stringify(value)}: expected ${expected}`);
  };
  return {
    str: (name, fallback) => raw(name) ?? fallback,
    optionalStr: raw,
    int(name, fallback, min, max) {
      const v = raw(name);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (Number.isInteger(n) && n >= min && n <= max) return n;
      bad(name, v, `an integer from ${min} to ${max}`);
      return fallback;
    },
    file(name) {
      const v = raw(name);
      if (v !== undefined && !existsSync(v)) problems.push(`${name}=${JSON.stringify(v)}: no such file`);
      return v;
    },
    brokers(name, fallback) {
      const v = raw(name);
      if (v === undefined) return fallback;
      const list = v.split(',').map((s) => s.trim());
      if (list.every((b) => /^[^\s:/]+:\d{1,5}$/.test(b))) return list;
      bad(name, v, 'host:port[,host:port...]');
      return fallback;
    },
    url(name, fallback, protocols) {
      const v = raw(name) ?? fallback;
      const protocol = URL.parse(v)?.protocol;
      if (protocol === undefined || !protocols.includes(protocol)) {
        bad(name, v, `a ${protocols.join(' or ')} URL (${protocol ? `protocol ${protocol}` : 'not a URL'})`);
      }
      return v;
    },
    role(name, fallback) {
      const v = raw(name) ?? fallback;
      return v === 'none' ? null : v;
    },
    problem: (text) => {
      problems.push(text);
    },
    bad,
    done() {
      if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
    },
  };
}

/** The variables every service shares: Kafka brokers, the database URL and withTenant's role. */
export function busAndDatabase(r: EnvReader, defaults: { kafkaBrokers: string[]; databaseUrl: string }) {
  return {
    kafkaBrokers: r.brokers('TRACER_KAFKA_BROKERS', defaults.kafkaBrokers),
    databaseUrl: r.url('TRACER_DATABASE_URL', defaults.databaseUrl, ['postgres:', 'postgresql:']),
    /** null when the database user is itself a member of tracer_app (TRACER_DATABASE_ROLE=none). */
    databaseRole: r.role('TRACER_DATABASE_ROLE', 'tracer_app'),
  };
}
