// Prints the classifier's per-category results on fixtures/logs, and every miss with what
// came out instead: node test/classifier-table.ts [--holdout]
import { loadCases, passTable, runCase } from './classifier-fixtures.ts';

const results = loadCases(process.argv[2] === '--holdout' ? 'holdout.json' : 'manifest.json').map(runCase);
console.log(passTable(results));
for (const r of results.filter((x) => !x.categoryOk || !x.linesOk)) {
  console.log(
    `\nMISS ${r.case.name}: expected ${r.case.category} errors ${JSON.stringify(r.case.errorLines)} warnings ${JSON.stringify(r.case.warningLines)}; got ${r.category} (${r.confidence}) errors ${JSON.stringify(r.errorLines)} warnings ${JSON.stringify(r.warningLines)}`,
  );
}
