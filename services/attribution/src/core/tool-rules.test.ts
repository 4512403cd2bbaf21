import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_TOOL_RULES_PATH, defaultToolRules, loadToolRules } from '../tool-rules-file.ts';
import { compileToolRules, detectTool, ToolRulesError, toolDisplayName } from './tool-rules.ts';

const rules = defaultToolRules();
const name = (exe: string, ...argv: string[]) => {
  const m = detectTool(rules, exe, argv);
  return m === null
    ? null
    : m.kind === 'tool' || m.kind === 'wrapper'
      ? toolDisplayName(m)
      : `${m.kind}:${toolDisplayName(m)}`;
};

test('the shipped rules load and name at least 150 tools', () => {
  assert.ok(rules.file.tools.length >= 150, `${rules.file.tools.length} tools`);
});

test('subcommands tell bwa mem from bwa index, samtools sort from view, STAR runs apart', () => {
  assert.equal(name('/usr/bin/bwa', 'bwa', 'mem', '-t', '8', 'ref.fa', 'r1.fq'), 'bwa mem');
  assert.equal(name('/usr/bin/bwa', 'bwa', 'index', 'ref.fa'), 'bwa index');
  assert.equal(name('/usr/bin/samtools', 'samtools', 'sort', '-@', '4', '-o', 'x.bam'), 'samtools sort');
  assert.equal(name('/usr/bin/samtools', 'samtools', 'index', 'x.bam'), 'samtools index');
  assert.equal(name('/usr/bin/samtools', 'samtools', 'view', '-b', '-'), 'samtools view');
  assert.equal(name('/opt/STAR', 'STAR', '--runMode', 'genomeGenerate', '--genomeDir', 'g'), 'STAR genomeGenerate');
  assert.equal(name('/opt/STAR', 'STAR', '--genomeDir', 'g', '--readFilesIn', 'r.fq'), 'STAR alignReads');
  assert.equal(name('/usr/bin/bcftools', 'bcftools', 'call', '-mv'), 'bcftools call');
  assert.equal(name('/usr/bin/bedtools', 'bedtools', 'intersect', '-a', 'x'), 'bedtools intersect');
  assert.equal(name('/opt/salmon', 'salmon', 'quant', '-i', 'idx'), 'salmon quant');
  assert.equal(name('/opt/kallisto', 'kallisto', 'index', '-i', 'x'), 'kallisto index');
  assert.equal(name('/usr/bin/minimap2', 'minimap2', '-ax', 'sr', 'ref.fa'), 'minimap2');
  assert.equal(name('/opt/cellranger', 'cellranger', 'count', '--id=x'), 'cellranger count');
  assert.equal(name('/usr/bin/fastqc', 'fastqc', 'r1.fq'), 'fastqc');
  assert.equal(name('/usr/bin/bowtie2-align-s', 'bowtie2-align-s', '--wrapper', 'basic-0', '-x', 'idx'), 'bowtie2');
});

test('java -jar and main classes: picard, gatk, fastqc, trimmomatic', () => {
  assert.equal(
    name('/usr/bin/java', 'java', '-Xmx4g', '-jar', '/opt/picard.jar', 'MarkDuplicates', 'I=a.bam'),
    'picard MarkDuplicates',
  );
  assert.equal(
    name('/usr/bin/java', 'java', '-jar', '/gatk/gatk-package-4.5.0.0-local.jar', 'HaplotypeCaller', '-R', 'x'),
    'gatk HaplotypeCaller',
  );
  assert.equal(
    name('/usr/bin/gatk', 'gatk', '--java-options', '-Xmx8g', 'BaseRecalibrator', '-I', 'x'),
    'gatk BaseRecalibrator',
  );
  assert.equal(
    name('/usr/bin/java', 'java', '-Xmx250m', '-cp', '/opt/fastqc', 'uk.ac.babraham.FastQC.FastQCApplication', 'r.fq'),
    'fastqc',
  );
  assert.equal(name('/usr/bin/java', 'java', '-jar', 'trimmomatic-0.39.jar', 'PE', '-threads', '4'), 'trimmomatic PE');
  assert.equal(name('/usr/bin/java', 'java', '-jar', 'my-own-tool.jar', 'x'), 'my-own-tool');
});

test('interpreters and scripts: python -m, #! scripts, Rscript, perl, Snakemake temp scripts', () => {
  assert.equal(name('/usr/bin/python3.11', '/usr/bin/python3', '/usr/bin/multiqc', '.'), 'multiqc');
  assert.equal(name('/usr/bin/python3', 'python3', '-m', 'multiqc', '.'), 'multiqc');
  assert.equal(name('/usr/bin/python3', 'python3', '-u', 'scripts/qc_report.py', '--in', 'x'), 'qc_report.py');
  assert.equal(name('/usr/bin/python3', 'python3', '/w/.snakemake/scripts/tmpa1b2c3d4.count.py'), 'count.py');
  assert.equal(name('/usr/bin/Rscript', 'Rscript', '--vanilla', 'deseq2.r', 'counts.tsv'), 'deseq2');
  assert.equal(name('/usr/bin/perl', 'perl', '/usr/bin/fastqc', 'r.fq'), 'fastqc');
  assert.equal(name('/usr/bin/python3', 'python3', '-c', 'print(1)'), 'python');
});

test('shells and wrappers see through to the real tool', () => {
  assert.equal(
    name(
      '/usr/bin/bash',
      '/usr/bin/bash',
      '-c',
      'set -euo pipefail;  bwa mem ref.fa a.fq | samtools view -b - > a.bam',
    ),
    'bwa mem',
  );
  assert.equal(
    name('/bin/sh', 'sh', '-c', 'mkdir -p out && cd out && samtools sort -o x.bam ../y.bam'),
    'samtools sort',
  );
  // Options with a value before -c (`-euo pipefail`), as Nextflow and make recipes write them.
  assert.equal(name('/bin/bash', 'bash', '-euo', 'pipefail', '-c', 'samtools index x.bam'), 'samtools index');
  assert.equal(name('/usr/bin/env', 'env', 'OMP_NUM_THREADS=4', 'salmon', 'quant', '-i', 'x'), 'salmon quant');
  assert.equal(name('/usr/bin/time', 'time', '-v', 'bwa', 'mem', 'r', 'q'), 'bwa mem');
  assert.equal(name('/usr/bin/nice', 'nice', '-n', '10', 'samtools', 'index', 'x.bam'), 'samtools index');
  assert.equal(
    name('/usr/bin/timeout', 'timeout', '-s', 'KILL', '3600', 'STAR', '--runMode', 'genomeGenerate'),
    'STAR genomeGenerate',
  );
  assert.equal(name('/opt/conda/bin/conda', 'conda', 'run', '-n', 'rna', 'salmon', 'index', '-t', 'x'), 'salmon index');
  assert.equal(
    name('/usr/bin/singularity', 'singularity', 'exec', '-B', '/data', 'img.sif', 'fastqc', 'r.fq'),
    'fastqc',
  );
  assert.equal(
    name('/usr/bin/bash', 'bash', '-c', 'for f in a b; do samtools flagstat $f; done > out'),
    'samtools flagstat',
  );
  const docker = detectTool(rules, '/usr/bin/docker', [
    'docker',
    'run',
    '--rm',
    '-v',
    '/d:/d',
    'quay.io/biocontainers/bwa',
    'bwa',
    'mem',
    'r',
    'q',
  ]);
  assert.deepEqual(docker, { kind: 'tool', tool: 'bwa', subcommand: 'mem', known: true, via: 'docker run' });
});

test('--version and --help runs are not tool executions; housekeeping is plumbing', () => {
  assert.equal(name('/usr/bin/samtools', 'samtools', '--version'), 'ignored:samtools');
  assert.equal(name('/usr/bin/bwa', 'bwa', 'mem', '--help'), 'ignored:bwa');
  assert.equal(name('/usr/bin/java', 'java', '-version'), 'ignored:java');
  assert.equal(name('/usr/bin/mystery', 'mystery', '--help'), 'ignored:mystery');
  assert.equal(name('/usr/bin/mkdir', 'mkdir', '-p', 'x'), 'plumbing:mkdir');
  assert.equal(name('/usr/bin/tee', 'tee', '.command.out'), 'plumbing:tee');
});

test('an unknown program is named by its executable', () => {
  assert.deepEqual(detectTool(rules, '/opt/bin/my_aligner', ['my_aligner', 'x']), {
    kind: 'tool',
    tool: 'my_aligner',
    subcommand: null,
    known: false,
    via: null,
  });
});

test('the loader names the bad rule', () => {
  const doc = parse(readFileSync(DEFAULT_TOOL_RULES_PATH, 'utf8')) as { tools: unknown[] };
  const broken = structuredClone(doc);
  broken.tools[3] = { name: 'broken-tool', exe: 'not-a-list' };
  assert.throws(
    () => compileToolRules(broken),
    (e: Error) => e instanceof ToolRulesError && /tools\[3\] \(broken-tool\): "exe" must be a list/.test(e.message),
  );
  const noMatcher = structuredClone(doc);
  noMatcher.tools.push({ name: 'lonely' });
  assert.throws(() => compileToolRules(noMatcher), /lonely\): needs at least one of exe/);
  const dup = structuredClone(doc);
  dup.tools.push({ name: 'bwa', exe: ['bwa2'] });
  assert.throws(() => compileToolRules(dup), /\(bwa\): duplicate tool name/);
  const badSub = structuredClone(doc);
  badSub.tools.push({ name: 'x', exe: ['x'], subcommand: { style: 'sideways' } });
  assert.throws(() => compileToolRules(badSub), /\(x\): subcommand.style must be positional or option/);
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  writeFileSync(join(dir, 'bad.yaml'), 'version: 1\ntools: [\n');
  assert.throws(() => loadToolRules(join(dir, 'bad.yaml')), /tool rules: .*bad\.yaml/);
});
