import assert from 'node:assert/strict';
import { test } from 'node:test';
import { busAndDatabase, ConfigError, envReader } from './config.ts';

test('defaults when unset or blank; values trimmed', () => {
  const r = envReader({ A: '  x ', B: '   ', N: ' 7 ', ROLE: 'none' });
  assert.equal(r.str('A', 'd'), 'x');
  assert.equal(r.str('B', 'd'), 'd');
  assert.equal(r.optionalStr('B'), undefined);
  assert.equal(r.int('N', 1, 0, 10), 7);
  assert.equal(r.int('MISSING', 3, 0, 10), 3);
  assert.deepEqual(r.brokers('MISSING', ['k:9092']), ['k:9092']);
  assert.equal(r.role('ROLE', 'tracer_app'), null);
  assert.equal(r.role('MISSING', 'tracer_app'), 'tracer_app');
  r.done();
});

test('every bad variable is named in one error', () => {
  const r = envReader({
    PORT: '-1',
    COUNT: 'many',
    BROKERS: 'kafka, b:1',
    DB: 'mysql://x',
    CACHE: 'not a url',
    CERT: '/no/such/file.pem',
  });
  assert.equal(r.int('PORT', 80, 0, 65535), 80);
  r.int('COUNT', 1, 1, 10);
  r.brokers('BROKERS', []);
  r.url('DB', 'postgres://localhost', ['postgres:', 'postgresql:']);
  r.url('CACHE', 'redis://localhost', ['redis:']);
  r.file('CERT');
  r.problem('TLS_CERT and TLS_KEY go together');
  assert.throws(
    () => r.done(),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^invalid configuration:\n/);
      for (const key of ['PORT="-1"', 'COUNT="many"', 'BROKERS=', 'DB="mysql://x"', 'CACHE=', 'CERT=', 'TLS_CERT'])
        assert.ok(err.message.includes(key), `${key} in ${err.message}`);
      assert.equal(err.message.split('\n').length, 8);
      return true;
    },
  );
});

test('the shared bus and database variables: defaults, role none, bad ones named', () => {
  const defaults = { kafkaBrokers: ['127.0.0.1:19092'], databaseUrl: 'postgres://localhost/tracer' };
  assert.deepEqual(busAndDatabase(envReader({}), defaults), { ...defaults, databaseRole: 'tracer_app' });
  assert.equal(busAndDatabase(envReader({ TRACER_DATABASE_ROLE: 'none' }), defaults).databaseRole, null);
  const r = envReader({ TRACER_KAFKA_BROKERS: 'kafka', TRACER_DATABASE_URL: 'http://x' });
  busAndDatabase(r, defaults);
  assert.throws(() => r.done(), /TRACER_KAFKA_BROKERS="kafka".*\n.*TRACER_DATABASE_URL="http:\/\/x"/);
});
