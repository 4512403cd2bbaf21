// The small HTTP endpoint beside a Kafka consumer: /healthz (the process answers), /readyz
// (200 when every check says ok, else 503 with the checks) and /metrics (Prometheus text).
import { createServer } from 'node:http';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  readiness: () => Promise<Readiness>;
  registry: Registry;
}

export interface HealthServer {
  /** http://host:port */
  url: string;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  type?: string;
  body: string;
}

const NOT_FOUND: Answer = {
  status: 404,
  type: 'application/problem+json',
  body: JSON.stringify({ type: 'about:blank', title: 'Not found', status: 404 }),
};

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const routes: Record<string, () => Promise<Answer>> = {
    '/healthz': async () => ({ status: 200, body: '{"ok":true}' }),
    '/readyz': async () => {
      const readiness = await options.readiness();
      return { status: readiness.ready ? 200 : 503, body: JSON.stringify(readiness) };
    },
    '/metrics': async () => ({
      status: 200,
      type: options.registry.contentType,
      body: await options.registry.metrics(),
    }),
  };
  const server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    (route ? route() : Promise.resolve(NOT_FOUND))
      .catch((err: Error): Answer => ({ status: 500, type: 'text/plain', body: err.message }))
      .then(({ status, type, body }) => {
        res.writeHead(status, { 'content-type': type ?? 'application/json' });
        res.end(body);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://${options.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A group consumer's readiness: joined its group (`joined` resolves on the first assignment)
 * and the database answers.
 */
export function consumerReadiness(
  joined: Promise<unknown>,
  database: { query(sql: string): Promise<unknown> },
): () => Promise<Readiness> {
  let hasJoined = false;
  joined.then(() => {
    hasJoined = true;
  });
  return async () => {
    const postgres = await database.query('SELECT 1').then(
      () => 'ok',
      (err: Error) => err.message,
    );
    return {
      ready: hasJoined && postgres === 'ok',
      checks: { kafka: hasJoined ? 'ok' : 'joining group', postgres },
    };
  };
}
