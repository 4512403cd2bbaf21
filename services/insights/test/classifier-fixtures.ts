// The classifier checked against log excerpts built from tools' real error messages
// (fixtures/logs): each case runs through the whole core as a one-process trace (the log
// arrives in chunks that split lines), and must give its expected category and exactly its
// expected error and warning lines.
import { readFileSync } from 'node:fs';
import type { RootCauseCategory } from '@tracer/events';
import { rootCauseCategories } from '@tracer/events';
import { analyzeLog, analyzeTrace, collectTraceLogs, dedupeFindings } from '../src/core/index.ts';
import { traceBuilder } from './trace-builder.ts';
import { insightProblems } from './valid-insight.ts';

export interface FixtureCase {
  file: string;
  name: string;
  category: RootCauseCategory;
  exit: { code: number; signal: number | null };
  argv: string[];
  errorLines: number[];
  warningLines: number[];
}

export interface CaseResult {
  case: FixtureCase;
  category: RootCauseCategory | undefined;
  confidence: number | undefined;
  errorLines: number[];
  warningLines: number[];
  categoryOk: boolean;
  linesOk: boolean;
}

const dir = new URL('../fixtures/logs/', import.meta.url);

/** `manifest.json`: the tuning set; `holdout.json`: cases the pattern table was not tuned on. */
export function loadCases(manifest = 'manifest.json'): FixtureCase[] {
  return JSON.parse(readFileSync(new URL(manifest, dir), 'utf8')) as FixtureCase[];
}

export function runCase(c: FixtureCase): CaseResult {
  const text = readFileSync(new URL(c.file, dir), 'utf8');
  const t = traceBuilder();
  t.at(0).exec(100, c.argv);
  // Chunks of 97 bytes: lines cross chunk boundaries, as they do when captured.
  for (let i = 0, s = 1; i < text.length; i += 97, s++) t.at(s * 0.01).log(100, text.slice(i, i + 97));
  t.at(5).exit(100, { code: c.exit.code, ...(c.exit.signal ? { signal: c.exit.signal } : {}) });
  const insights = analyzeTrace(t.events);
  const problems = insightProblems(insights);
  if (problems.length) throw new Error(`insights that break the schema: ${problems.join(' | ')}`);
  const failure = insights.find((i) => i.pid === 100 && i.category !== undefined);
  const lines = [...collectTraceLogs(t.events).values()].flat();
  const marked = analyzeLog(lines);
  const errorLines = marked.filter((m) => m.level === 'error').map((m) => m.line);
  const warningLines = marked.filter((m) => m.level === 'warning').map((m) => m.line);
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  const insightLines = failure?.errorLines ?? [];
  return {
    case: c,
    category: failure?.category,
    confidence: failure?.confidence,
    errorLines,
    warningLines,
    categoryOk: failure?.category === c.category,
    // The insight carries the engine's own line numbers: every distinct error line (repeats
    // folded into their first occurrence) must be among them.
    linesOk:
      same(errorLines, c.errorLines) &&
      same(warningLines, c.warningLines) &&
      dedupeFindings(marked.filter((m) => m.level === 'error')).every((f) => insightLines.includes(f.line)),
  };
}

/** Per-category pass table, Markdown. */
export function passTable(results: CaseResult[]): string {
  const rows = ['| category | cases | category right | error lines right | both |', '|---|---:|---:|---:|---:|'];
  let tc = 0,
    tcat = 0,
    tl = 0,
    tb = 0;
  for (const cat of rootCauseCategories) {
    const rs = results.filter((r) => r.case.category === cat);
    const c = rs.filter((r) => r.categoryOk).length;
    const l = rs.filter((r) => r.linesOk).length;
    const b = rs.filter((r) => r.categoryOk && r.linesOk).length;
    tc += rs.length;
    tcat += c;
    tl += l;
    tb += b;
    rows.push(`| ${cat} | ${rs.length} | ${c} | ${l} | ${b} |`);
  }
  rows.push(`| **all** | ${tc} | ${tcat} | ${tl} | ${tb} |`);
  return rows.join('\n');
}
