// Prints the classifier's per-category results on fixtures/logs, and every miss with what
// came out instead: node test/classifier-table.ts [--holdout|--holdout2]
import { loadCases, passTable, runCase } from './classifier-fixtures.ts';

const set = { '--holdout': 'holdout.json', '--holdout2': 'holdout2.json' }[process.argv[2] ?? ''] ?? 'manifest.json';
const results = loadCases(set).map(runCase);
console.log(passTable(results));
for (const r of results.filter((x) => !x.categoryOk || !x.linesOk)) {
  console.log(
    `\nMISS ${r.case.name}: expected ${r.case.category} errors ${JSON.stringify(r.case.errorLines)} warnings ${JSON.stringify(r.case.warningLines)}; got ${r.category} (${r.confidence}) errors ${JSON.stringify(r.errorLines)} warnings ${JSON.stringify(r.warningLines)}`,
  );
}
