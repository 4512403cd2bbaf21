import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeExit, signalFromExitCode } from './exit-codes.ts';

test('exit-code meanings', () => {
  const cases: Array<[number, RegExp]> = [
    [1, /general error/],
    [2, /usage error/],
    [124, /timeout/],
    [126, /not executable/],
    [127, /command not found/],
    [130, /SIGINT/],
    [134, /SIGABRT.*assertion|SIGABRT/],
    [137, /SIGKILL.*OOM killer/],
    [139, /SIGSEGV.*segmentation fault/],
    [140, /SGE\/LSF/],
    [141, /SIGPIPE/],
    [143, /SIGTERM.*time limit/],
    [152, /SIGXCPU/],
    [42, /tool-specific/],
  ];
  for (const [code, re] of cases) assert.match(describeExit(code), re, String(code));
  assert.match(describeExit(0, 11), /^SIGSEGV/);
  assert.equal(signalFromExitCode(137), 9);
  assert.equal(signalFromExitCode(1), undefined);
});
