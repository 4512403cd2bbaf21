import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootCauseCategories } from '@tracer/events';
import { loadCases, passTable, runCase } from './classifier-fixtures.ts';

const cases = [...loadCases('manifest.json'), ...loadCases('holdout.json'), ...loadCases('holdout2.json')];

test('every category has several fixture cases', () => {
  for (const c of rootCauseCategories) assert.ok(cases.filter((x) => x.category === c).length >= 3, c);
});

for (const c of cases) {
  test(`fixture ${c.name}: ${c.category}, error lines ${JSON.stringify(c.errorLines)}`, () => {
    const r = runCase(c);
    assert.equal(r.category, c.category);
    assert.deepEqual(r.errorLines, c.errorLines);
    assert.deepEqual(r.warningLines, c.warningLines);
    assert.ok(r.linesOk);
  });
}

test('per-category table', (t) => {
  t.diagnostic(`\n${passTable(cases.map(runCase))}`);
});
