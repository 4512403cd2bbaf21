import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { findTestFiles } from './test-files.ts';

function workspace(files: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'tracer-files-'));
  for (const f of files) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), '');
  }
  return root;
}

test('finds src/ and test/ test files, never node_modules or fixtures', (t) => {
  const root = workspace([
    'packages/a/src/x.test.ts',
    'packages/a/src/core/y.test.ts',
    'packages/a/test/z.test.ts',
    'packages/a/fixtures/f.test.ts',
    'packages/a/node_modules/dep/src/n.test.ts',
    'packages/a/src/x.ts',
  ]);
  t.after(() => rmSync(root, { recursive: true }));
  assert.deepEqual(
    findTestFiles(root).map((f) => f.slice(root.length + 1)),
    ['packages/a/src/core/y.test.ts', 'packages/a/src/x.test.ts', 'packages/a/test/z.test.ts'],
  );
});

test('filters keep only files under the given folders or files, relative to cwd or root', (t) => {
  const root = workspace([
    'packages/a/src/x.test.ts',
    'packages/b/test/y.test.ts',
    'infra/c/test/z.test.ts',
    'docs/notes.md',
  ]);
  t.after(() => rmSync(root, { recursive: true }));
  const rel = (fs: string[]) => fs.map((f) => f.slice(root.length + 1));
  assert.deepEqual(rel(findTestFiles(root, ['packages/b'], '/')), ['packages/b/test/y.test.ts']);
  assert.deepEqual(rel(findTestFiles(root, ['src/x.test.ts'], join(root, 'packages/a'))), ['packages/a/src/x.test.ts']);
  assert.throws(() => findTestFiles(root, ['packages/nope'], root), /no such file or folder: packages\/nope/);
  assert.throws(() => findTestFiles(root, ['docs'], root), /no test files in docs/);
});
