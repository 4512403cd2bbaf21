// A port held by a program that is not ours: the error names the port and the variable to
// change. Runs on spare ports with a throw-away TRACER_HOME, so the real stack is untouched.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRedis, createStack, isPortFree, StackError, stackPaths } from '../src/index.ts';

/** Listens on a free loopback port, standing in for someone else's server. */
async function foreignListener(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, port: address.port };
}

async function sparePort(): Promise<number> {
  const { server, port } = await foreignListener();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a server refuses a port held by a foreign listener, naming port and variable', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'tracer-ports-'));
  const { server, port } = await foreignListener();
  t.after(() => {
    server.close();
    rmSync(home, { recursive: true, force: true });
  });
  assert.equal(await isPortFree(port), false);
  const redis = createRedis({ paths: stackPaths(home), port });
  await assert.rejects(
    redis.start(() => {}),
    (err: Error) => {
      assert.ok(err instanceof StackError);
      assert.match(err.message, new RegExp(`port ${port} `));
      assert.match(err.message, /TRACER_REDIS_PORT=/);
      return true;
    },
  );
  assert.equal((await redis.status()).state, 'stopped');
});

test('up checks every port before starting anything', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'tracer-ports-'));
  const { server, port } = await foreignListener();
  t.after(() => {
    server.close();
    rmSync(home, { recursive: true, force: true });
  });
  const kafkaPort = await sparePort();
  const stack = createStack({
    home,
    addresses: {
      kafkaPort,
      kafkaControllerPort: await sparePort(),
      postgresPort: await sparePort(),
      redisPort: port,
      kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
      databaseUrl: 'unused',
      redisUrl: 'unused',
    },
  });
  await assert.rejects(stack.up(), new RegExp(`redis: port ${port} .*TRACER_REDIS_PORT`));
  const states = (await stack.status()).map((r) => r.status.state);
  assert.deepEqual(states, ['stopped', 'stopped', 'stopped']);
});
