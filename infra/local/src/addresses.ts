// Where the local stack listens. Ports are loopback-only and overridable, so the stack can
// coexist with a system PostgreSQL, Redis or Kafka: TRACER_KAFKA_PORT, TRACER_POSTGRES_PORT,
// TRACER_REDIS_PORT. Clients (services, tests) read the derived addresses below.

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${name}=${JSON.stringify(raw)} is not a TCP port (1-65535)`);
  }
  return n;
}

export interface StackAddresses {
  kafkaPort: number;
  kafkaControllerPort: number;
  postgresPort: number;
  redisPort: number;
  /** host:port list for Kafka clients (TRACER_KAFKA_BROKERS overrides). */
  kafkaBrokers: string[];
  /** Owner connection to the `tracer` database (TRACER_DATABASE_URL overrides). */
  databaseUrl: string;
  redisUrl: string;
}

export function stackAddresses(): StackAddresses {
  const kafkaPort = port('TRACER_KAFKA_PORT', 19092);
  const postgresPort = port('TRACER_POSTGRES_PORT', 15432);
  const redisPort = port('TRACER_REDIS_PORT', 16379);
  return {
    kafkaPort,
    kafkaControllerPort: port('TRACER_KAFKA_CONTROLLER_PORT', kafkaPort + 1),
    postgresPort,
    redisPort,
    kafkaBrokers: (process.env.TRACER_KAFKA_BROKERS ?? `127.0.0.1:${kafkaPort}`).split(','),
    databaseUrl: process.env.TRACER_DATABASE_URL ?? `postgres://tracer:tracer@127.0.0.1:${postgresPort}/tracer`,
    redisUrl: process.env.TRACER_REDIS_URL ?? `redis://127.0.0.1:${redisPort}`,
  };
}
