// Which files `tracer test` runs: every `*.test.ts` under a `src/` (unit tests beside their
// code) or a `test/` folder (integration tests) in the workspace, never inside node_modules.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

const skippedDirs = new Set(['node_modules', '.git', '.tools', '.tracer', '.turbo', 'build', 'dist']);

export function isTestFile(relPath: string): boolean {
  const parts = relPath.split(sep);
  return parts.at(-1)!.endsWith('.test.ts') && parts.slice(0, -1).some((p) => p === 'src' || p === 'test');
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!skippedDirs.has(entry.name)) walk(join(dir, entry.name), out);
    } else if (entry.isFile() && entry.name.endsWith('.test.ts')) {
      out.push(join(dir, entry.name));
    }
  }
}

/**
 * Test files under root, sorted. Filters are files or folders, relative to cwd or to root
 * (`packages/events`, `infra/local/test/stack.test.ts`); with filters, only what lies under one.
 * Throws when a filter names nothing, so a typo does not pass as an empty green run.
 */
export function findTestFiles(root: string, filters: string[] = [], cwd = process.cwd()): string[] {
  const all: string[] = [];
  walk(root, all);
  const tests = all.filter((f) => isTestFile(relative(root, f))).sort();
  if (filters.length === 0) return tests;
  const selected = new Set<string>();
  for (const filter of filters) {
    const target = [resolve(cwd, filter), resolve(root, filter)].find((p) => existsSync(p));
    if (target === undefined) throw new Error(`no such file or folder: ${filter}`);
    const matches = statSync(target).isDirectory()
      ? tests.filter((f) => f.startsWith(target + sep))
      : tests.filter((f) => f === target);
    if (matches.length === 0)
      throw new Error(`no test files in ${filter} (looked for src/**/*.test.ts, test/**/*.test.ts)`);
    for (const m of matches) selected.add(m);
  }
  return [...selected].sort();
}
