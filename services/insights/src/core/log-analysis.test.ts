import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../test/trace-builder.ts';
import {
  analyzeLog,
  collectTraceLogs,
  createLogCursor,
  dedupeFindings,
  feedLogChunk,
  filterLogLines,
  flushLogCursor,
  type LogLine,
} from './log-analysis.ts';

const lines = (text: string): LogLine[] =>
  text.split('\n').map((t, i) => ({ pid: 1, stream: 'stderr', line: i + 1, ts: (i + 1) * 1e9, text: t }));

test('lines are numbered as captured, across chunk boundaries, CR LF and progress-bar CRs', () => {
  const c = createLogCursor();
  assert.deepEqual(feedLogChunk(c, 'first li'), []);
  assert.deepEqual(feedLogChunk(c, 'ne\r\nsec'), [{ line: 1, text: 'first line' }]);
  assert.deepEqual(feedLogChunk(c, 'ond\n10%\r50%\r100%\n'), [
    { line: 2, text: 'second' },
    { line: 3, text: '100%' },
  ]);
  feedLogChunk(c, 'no newline at exit');
  assert.deepEqual(flushLogCursor(c), { line: 4, text: 'no newline at exit' });
});

test('per process and per stream numbering in a trace', () => {
  const t = traceBuilder();
  t.at(0).exec(1, ['a']).exec(2, ['b']).log(1, 'x\ny\n', 'stdout').log(2, 'p\n').log(1, 'e1\n').log(1, 'z\n', 'stdout');
  const logs = collectTraceLogs(t.events);
  const get = (pid: number, stream: string) =>
    [...logs.values()]
      .flat()
      .filter((l) => l.pid === pid && l.stream === stream)
      .map((l) => [l.line, l.text]);
  assert.deepEqual(get(1, 'stdout'), [
    [1, 'x'],
    [2, 'y'],
    [3, 'z'],
  ]);
  assert.deepEqual(get(1, 'stderr'), [[1, 'e1']]);
  assert.deepEqual(get(2, 'stderr'), [[1, 'p']]);
});

test('Java: the exception and each Caused by are errors, frames are not', () => {
  const m = analyzeLog(
    lines(
      [
        'INFO starting',
        'Exception in thread "main" java.lang.IllegalStateException: bad state',
        '\tat a.b.C.d(C.java:1)',
        'Caused by: java.io.FileNotFoundException: /x (No such file or directory)',
        '\tat e.f.G.h(G.java:2)',
        '\t... 3 more',
        'Caused by: java.lang.NullPointerException',
      ].join('\n'),
    ),
  );
  assert.deepEqual(
    m.map((x) => [x.line, x.level]),
    [
      [2, 'error'],
      [4, 'error'],
      [7, 'error'],
    ],
  );
  assert.equal(m[1]!.category, 'missing_input');
});

test('Python: the traceback header and its final exception line; frame source is not matched', () => {
  const m = analyzeLog(
    lines(
      [
        'Traceback (most recent call last):',
        '  File "x.py", line 3, in <module>',
        '    raise FileNotFoundError(p)  # Permission denied',
        'ValueError: bad value',
      ].join('\n'),
    ),
  );
  assert.deepEqual(
    m.map((x) => [x.line, x.level, x.category]),
    [
      [1, 'error', undefined],
      [4, 'error', undefined],
    ],
  );
});

test('R errors, C++ aborts, tool prefixes and warnings', () => {
  const m = analyzeLog(
    lines(
      [
        'Error in read.table(f) : no lines available in input',
        'Warning message:',
        '[W::hts_idx_load3] The index file is older than the data file',
        "terminate called after throwing an instance of 'std::runtime_error'",
        "a.out: x.c:5: main: Assertion `n > 0' failed.",
        'normal output: 0 errors',
      ].join('\n'),
    ),
  );
  assert.deepEqual(
    m.map((x) => [x.line, x.level]),
    [
      [1, 'error'],
      [2, 'warning'],
      [3, 'warning'],
      [4, 'error'],
      [5, 'error'],
    ],
  );
});

test('repeats fold into one finding with a count, numbers aside', () => {
  const m = analyzeLog(
    lines(
      [
        '[W::sam_parse1] mapped mate cannot have zero coordinate; treated as unmapped at line 12',
        '[W::sam_parse1] mapped mate cannot have zero coordinate; treated as unmapped at line 19',
        '[E::x] boom',
        '[W::sam_parse1] mapped mate cannot have zero coordinate; treated as unmapped at line 40',
      ].join('\n'),
    ),
  );
  const d = dedupeFindings(m);
  assert.deepEqual(
    d.map((f) => [f.line, f.count, f.lastLine]),
    [
      [1, 3, 4],
      [3, 1, 3],
    ],
  );
});

test('search and filter by level, text and time', () => {
  const m = analyzeLog(
    lines(['WARNING: low quality', 'ERROR: failed to open x', 'ok', 'ERROR: failed to open y'].join('\n')),
  );
  assert.deepEqual(
    filterLogLines(m, { level: 'error' }).map((l) => l.line),
    [2, 4],
  );
  assert.deepEqual(
    filterLogLines(m, { level: 'warning' }).map((l) => l.line),
    [1, 2, 4],
  );
  assert.deepEqual(
    filterLogLines(m, { text: 'OPEN Y' }).map((l) => l.line),
    [4],
  );
  assert.deepEqual(
    filterLogLines(m, { text: /open [xy]/, untilTs: 3e9 }).map((l) => l.line),
    [2],
  );
  assert.deepEqual(
    filterLogLines(lines('a\nb\nc'), { sinceTs: 2e9 }).map((l) => l.line),
    [2, 3],
  );
});
