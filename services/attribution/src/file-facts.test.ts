import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readFileFact } from './file-facts.ts';

test('file facts: bounded reads, absent files, and globs resolved nearest a time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facts-'));
  writeFileSync(join(dir, '.command.run'), '#!/bin/bash\n# NEXTFLOW TASK: FASTQC (s1)\nset -e\n'.repeat(100));
  const fact = readFileFact({ path: join(dir, '.command.run'), maxBytes: 64, reason: 'test' });
  assert.equal(fact.text?.length, 64);
  assert.match(fact.text!, /NEXTFLOW TASK: FASTQC \(s1\)/);
  assert.deepEqual(readFileFact({ path: join(dir, 'nope'), maxBytes: 10, reason: 'test' }), {
    type: 'file.fact',
    path: join(dir, 'nope'),
    text: null,
  });
  mkdirSync(join(dir, 'log'));
  for (const [name, sec] of [
    ['a.snakemake.log', 1000],
    ['b.snakemake.log', 2000],
    ['c.txt', 2000],
  ] as const) {
    writeFileSync(join(dir, 'log', name), name);
    utimesSync(join(dir, 'log', name), sec, sec);
  }
  const want = { path: join(dir, 'log', '*.snakemake.log'), maxBytes: 100, reason: 'test', glob: true };
  const near1000 = readFileFact({ ...want, nearTs: 1100 * 1e9 });
  assert.equal(near1000.text, 'a.snakemake.log');
  assert.equal(near1000.path, want.path, 'answers the glob it was asked');
  assert.equal(near1000.resolvedPath, join(dir, 'log', 'a.snakemake.log'));
  assert.equal(readFileFact({ ...want, nearTs: 1900 * 1e9 }).text, 'b.snakemake.log');
});
