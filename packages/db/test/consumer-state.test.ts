// Consumer state snapshots on the real server: round trip, versions, tenant isolation, and
// the row lock that makes a second instance wait for the first one's commit.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  consumerStateVersion,
  deserializeState,
  loadConsumerState,
  saveConsumerState,
  serializeState,
  withTenant,
} from '../src/index.ts';
import { freshDatabase, type TestDatabase } from './helpers.ts';

describe('consumer state', () => {
  let db: TestDatabase;
  before(async () => {
    db = await freshDatabase('consumer_state');
  });
  after(() => db.drop());

  test('a snapshot round-trips Maps and Sets, and versions move by save', async () => {
    const state = { procs: new Map([['u-1', { pid: 1, children: new Set(['u-2']) }]]), seq: new Map([['a', 41]]) };
    await withTenant(db.pool, 'acme', async (c) => {
      assert.equal(await loadConsumerState(c, 'attribution', 'h1'), undefined);
      assert.equal(await consumerStateVersion(c, 'attribution', 'h1'), 0);
      await saveConsumerState(c, 'attribution', 'h1', 1, serializeState(state));
    });
    const loaded = await withTenant(db.pool, 'acme', (c) => loadConsumerState(c, 'attribution', 'h1'));
    assert.equal(loaded?.version, 1);
    assert.deepEqual(deserializeState(loaded!.state), state);
    await withTenant(db.pool, 'acme', (c) => saveConsumerState(c, 'attribution', 'h1', 2, serializeState({})));
    assert.equal(await withTenant(db.pool, 'acme', (c) => consumerStateVersion(c, 'attribution', 'h1')), 2);
  });

  test('another tenant, service or host sees nothing', async () => {
    await withTenant(db.pool, 'acme', (c) => saveConsumerState(c, 'insights', 'h2', 1, serializeState({ a: 1 })));
    assert.equal(await withTenant(db.pool, 'globex', (c) => loadConsumerState(c, 'insights', 'h2')), undefined);
    assert.equal(await withTenant(db.pool, 'acme', (c) => loadConsumerState(c, 'attribution', 'h2')), undefined);
    assert.equal(await withTenant(db.pool, 'acme', (c) => loadConsumerState(c, 'insights', 'h3')), undefined);
  });

  test('before any snapshot exists, a second instance still waits for the first one to commit', async () => {
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((r) => {
      releaseFirst = r;
    });
    let firstLocked!: () => void;
    const lockedByFirst = new Promise<void>((r) => {
      firstLocked = r;
    });
    const first = withTenant(db.pool, 'acme', async (c) => {
      assert.equal(await consumerStateVersion(c, 'svc', 'fresh-host'), 0);
      firstLocked();
      await firstHolds;
      await saveConsumerState(c, 'svc', 'fresh-host', 1, serializeState('first'));
    });
    await lockedByFirst;
    const second = withTenant(db.pool, 'acme', (c) => consumerStateVersion(c, 'svc', 'fresh-host'));
    const early = await Promise.race([second.then(() => 'read'), new Promise((r) => setTimeout(r, 300, 'waiting'))]);
    assert.equal(early, 'waiting');
    releaseFirst();
    await first;
    assert.equal(await second, 1, "the second instance sees the first one's version, not an empty state");
  });

  test('a second loader waits until the first transaction commits, then sees its version', async () => {
    await withTenant(db.pool, 'acme', (c) => saveConsumerState(c, 'svc', 'h', 1, serializeState(1)));
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((r) => {
      releaseFirst = r;
    });
    let firstLoaded!: () => void;
    const loadedByFirst = new Promise<void>((r) => {
      firstLoaded = r;
    });
    const first = withTenant(db.pool, 'acme', async (c) => {
      await loadConsumerState(c, 'svc', 'h');
      firstLoaded();
      await firstHolds;
      await saveConsumerState(c, 'svc', 'h', 2, serializeState(2));
    });
    await loadedByFirst;
    const second = withTenant(db.pool, 'acme', (c) => loadConsumerState(c, 'svc', 'h'));
    const early = await Promise.race([second.then(() => 'loaded'), new Promise((r) => setTimeout(r, 300, 'waiting'))]);
    assert.equal(early, 'waiting');
    releaseFirst();
    await first;
    const seen = await second;
    assert.equal(seen?.version, 2);
    assert.equal(deserializeState(seen!.state), 2);
  });
});
