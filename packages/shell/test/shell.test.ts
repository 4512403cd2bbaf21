import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  dropRedirections,
  shellInvocation,
  shellPipelines,
  shellWords,
  simpleCommands,
  splitShellCommands,
} from '../src/index.ts';

test('splits shell strings into simple commands, keeping quotes and redirections', () => {
  assert.deepEqual(splitShellCommands(`a 'b c' "d \\"e\\"" 2>&1 | f &>/dev/null && g # comment\nh`), [
    ['a', 'b c', 'd "e"', '2>&1'],
    ['f', '&>/dev/null'],
    ['g'],
    ['h'],
  ]);
});

test('a command substitution stays inside its word; a continuation line joins', () => {
  assert.deepEqual(splitShellCommands('for f in $(ls *.fq | sort); do gzip `echo $f`; done'), [
    ['for', 'f', 'in', '$(ls *.fq | sort)'],
    ['do', 'gzip', '`echo $f`'],
    ['done'],
  ]);
  assert.deepEqual(splitShellCommands('bwa mem \\\n  ref.fa r1.fq'), [['bwa', 'mem', 'ref.fa', 'r1.fq']]);
});

test('redirections go, with their targets when those are separate words', () => {
  assert.deepEqual(dropRedirections(['sort', '>', 'out', '2>&1', '<in', '>|', 'f', '<<<', 'x', 'y', '&>>log']), [
    'sort',
    'y',
  ]);
  assert.deepEqual(simpleCommands('> empty.txt; samtools sort -o out.bam in.bam 2> err.log'), [
    ['samtools', 'sort', '-o', 'out.bam', 'in.bam'],
  ]);
});

test('every word of a string, across its commands', () => {
  assert.deepEqual(shellWords('a; b|c && "d e"'), ['a', 'b', 'c', 'd e']);
});

test('pipelines: commands joined by | or |&, not by || or &&', () => {
  assert.deepEqual(
    shellPipelines('set -euo pipefail;  bwa mem ref.fa a.fq 2> /dev/null | samtools view -b - > a.bam'),
    [
      [['set', '-euo', 'pipefail']],
      [
        ['bwa', 'mem', 'ref.fa', 'a.fq'],
        ['samtools', 'view', '-b', '-'],
      ],
    ],
  );
  assert.deepEqual(shellPipelines('a || b && c |& d | e; f &'), [[['a']], [['b']], [['c'], ['d'], ['e']], [['f']]]);
  assert.deepEqual(shellPipelines('zcat x.gz 2>&1 | head'), [[['zcat', 'x.gz'], ['head']]]);
});

test("a shell's invocation: a -c string past its options, a script file with its arguments, or neither", () => {
  assert.deepEqual(shellInvocation(['-c', 'bwa mem r a']), { script: 'bwa mem r a' });
  assert.deepEqual(shellInvocation(['-euo', 'pipefail', '-c', 'x']), { script: 'x' });
  assert.deepEqual(shellInvocation(['-o', 'pipefail', '-ec', 'x']), { script: 'x' });
  assert.deepEqual(shellInvocation(['--rcfile', 'r', '-x', 'run.sh', '-c', 'a']), {
    file: 'run.sh',
    args: ['-c', 'a'],
  });
  assert.equal(shellInvocation(['-c']), undefined);
  assert.equal(shellInvocation(['-i']), undefined);
});
