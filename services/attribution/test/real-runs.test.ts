// Real runs under the agent: `./tracer run` traces a real engine on the bowtie2 example data,
// then `tracer trace tree --json` must report exactly the steps and tasks the engine itself
// says it ran (its own log), the right tools and the right failed task. Snakemake `benchmark:`
// files are an outside reference for peak RSS and CPU time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';

const REPO = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
const TRACER = join(REPO, 'tracer');
const WORKFLOWS = new URL('./workflows/', import.meta.url).pathname;
const NODE_BIN = join(REPO, '.tools', 'bin');
const ENGINE_TIMEOUT_MS = 150_000;

interface TreeJson {
  runs: Array<{
    pipeline: string;
    name: string;
    engine: string;
    status: string;
    exitCode: number | null;
    steps: Array<{
      name: string;
      tasks: Array<{
        name: string;
        status: string;
        exitCode: number | null;
        engineTaskId: string | null;
        startTs: number;
        endTs: number | null;
        resources: { cpuNs: number; peakRssBytes: number; wallNs: number; processCount: number };
        tools: Array<{ name: string; pids: number[] }>;
      }>;
    }>;
  }>;
}

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Why `tracer run` cannot be used here, or null when it works. */
function tracerRunUnavailable(): string | null {
  const r = spawnSync(TRACER, ['run', '--help'], { encoding: 'utf8', env: env() });
  return r.status === 0 ? null : `tracer run is not available yet: ${(r.stderr || r.stdout).trim().split('\n')[0]}`;
}

/** A test of an engine run under `tracer run`: skipped, saying why, where that cannot work. */
function engineTest(name: string, body: (t: TestContext) => void): void {
  test(name, { timeout: ENGINE_TIMEOUT_MS + 30_000 }, (t) => {
    const why = tracerRunUnavailable();
    if (why) return t.skip(why);
    body(t);
  });
}

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${NODE_BIN}:${process.env.PATH ?? ''}`, TRACER_LOG_LEVEL: 'warn', ...extra };
}

let dataDir: string;
before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'attribution-real-'));
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs CMD under `./tracer run` in DIR; returns the command's exit status and output. */
function traced(dir: string, trace: string, cmd: string[]) {
  const r = spawnSync(TRACER, ['run', '--out', trace, '--', ...cmd], {
    cwd: dir,
    encoding: 'utf8',
    env: env({ TRACER_DATA_DIR: dataDir }),
    timeout: ENGINE_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.ok(existsSync(trace), `tracer run wrote no trace: ${r.stderr}`);
  const start = JSON.parse(readFileSync(trace, 'utf8').split('\n', 1)[0]!) as { mode: 'bpf' | 'proc' };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, mode: start.mode };
}

/** `tracer trace tree --json`. */
function treeOf(trace: string): TreeJson {
  const r = spawnSync(TRACER, ['trace', 'tree', '--json', trace], {
    encoding: 'utf8',
    env: env(),
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as TreeJson;
}

const tasksOf = (tree: TreeJson) =>
  tree.runs.flatMap((r) => r.steps.flatMap((s) => s.tasks.map((t) => ({ step: s.name, ...t }))));

// --- Snakemake ---------------------------------------------------------------------------------

interface SmkJob {
  rule: string;
  name: string;
  status: 'succeeded' | 'failed';
}

/** Snakemake's own job list, from the log it writes to .snakemake/log/. */
function snakemakeJobs(dir: string): SmkJob[] {
  const logDir = join(dir, '.snakemake', 'log');
  const log = readFileSync(join(logDir, readdirSync(logDir).sort().at(-1)!), 'utf8');
  const jobs = new Map<string, SmkJob>();
  let block: { kind: string; rule: string; fields: Record<string, string> } | null = null;
  const close = () => {
    if (!block?.fields.jobid) return;
    const id = block.fields.jobid;
    if (block.kind === 'rule') {
      const w = block.fields.wildcards;
      jobs.set(id, { rule: block.rule, name: w ? `${block.rule} (${w})` : block.rule, status: 'succeeded' });
    } else if (jobs.has(id)) jobs.get(id)!.status = 'failed';
  };
  for (const line of log.split('\n')) {
    const field = /^\s+(\w+): (.*)$/.exec(line);
    if (block && field) {
      block.fields[field[1]!] ??= field[2]!;
      continue;
    }
    close();
    block = null;
    const m = /^(?:local)?rule (\S+):$/.exec(line) ?? /^Error in rule (\S+):$/.exec(line);
    if (m) block = { kind: line.startsWith('Error') ? 'error' : 'rule', rule: m[1]!, fields: {} };
  }
  close();
  return [...jobs.values()];
}

function snakemakeDir(name: string, reps: number, extraMb = 0): string {
  const dir = join(dataDir, name);
  mkdirSync(dir, { recursive: true });
  cpSync(join(WORKFLOWS, 'snakemake/Snakefile'), join(dir, 'Snakefile'));
  const r = spawnSync('sh', [join(WORKFLOWS, 'snakemake/make-data.sh'), dir, String(reps), String(extraMb)], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

const EXPECTED_TOOLS: Record<string, string[]> = {
  bwa_index: ['bwa index'],
  bwa_map: ['bwa mem', 'samtools view'],
  samtools_sort: ['samtools sort'],
  samtools_index: ['samtools index'],
  stats: ['samtools flagstat'],
  all: [],
};

function assertSameJobs(tree: TreeJson, jobs: SmkJob[]): void {
  const ours = tasksOf(tree)
    .map((t) => `${t.step} | ${t.name} | ${t.status}`)
    .sort();
  const theirs = jobs.map((j) => `${j.rule} | ${j.name} | ${j.status}`).sort();
  assert.deepEqual(ours, theirs, 'the tasks are exactly the jobs Snakemake logged');
}

function assertTools(tree: TreeJson, mode: 'bpf' | 'proc'): void {
  for (const t of tasksOf(tree)) {
    const names = [...new Set(t.tools.map((x) => x.name))].sort();
    const expected = EXPECTED_TOOLS[t.step]!;
    if (mode === 'bpf') assert.deepEqual(names, [...expected].sort(), `tools of ${t.name}`);
    // /proc sampling can miss a process shorter than its poll: what it saw must still be right.
    else for (const n of names) assert.ok(expected.includes(n), `${n} in ${t.name}`);
  }
}

/** Debian's Snakemake 7.x, and 9.x from PyPI (infra/local/install.sh puts it in .tools/snakemake9). */
const SNAKEMAKE_9 = join(REPO, '.tools', 'snakemake9', 'bin', 'snakemake');
const SNAKEMAKES = [
  {
    version: '7',
    bin: 'snakemake',
    missing: !have('snakemake') && 'snakemake is not installed (apt-get install snakemake)',
  },
  {
    version: '9',
    bin: SNAKEMAKE_9,
    missing: !existsSync(SNAKEMAKE_9) && 'Snakemake 9 is not installed (bash infra/local/install.sh)',
  },
];

for (const smk of SNAKEMAKES)
  describe(`Snakemake ${smk.version} under tracer run`, { skip: smk.missing }, () => {
    engineTest('a succeeding run: rules, jobs, tools, and the benchmark files agree', (t) => {
      // 12 Mb more reference: `bwa index` runs for seconds of CPU, enough for a 0.5 s sampler.
      const dir = snakemakeDir(`smk${smk.version}-ok`, 40, 12);
      const trace = join(dir, 'trace.jsonl');
      const run = traced(dir, trace, [smk.bin, '-c2']);
      assert.equal(run.status, 0, run.stderr);
      t.diagnostic(`agent mode: ${run.mode}`);
      const tree = treeOf(trace);
      assert.equal(tree.runs.length, 1);
      assert.equal(tree.runs[0]!.engine, 'snakemake');
      assert.equal(tree.runs[0]!.status, 'succeeded');
      assertSameJobs(tree, snakemakeJobs(dir));
      assertTools(tree, run.mode);

      // Outside reference: Snakemake's benchmark (psutil every 0.5 s for the first 15 s, then
      // every 30 s; the sum over the job's process tree). Jobs long enough for its sampler.
      const compared: string[] = [];
      let cpuCompared = 0;
      let rssCompared = 0;
      for (const task of tasksOf(tree).filter((x) => x.step === 'bwa_map' || x.step === 'bwa_index')) {
        const sample = /sample=(\w+)/.exec(task.name)?.[1];
        const [, row] = readFileSync(join(dir, sample ? `bench/bwa_map.${sample}.tsv` : 'bench/bwa_index.tsv'), 'utf8')
          .trim()
          .split('\n');
        const [seconds, , maxRssMiB, , , , , , meanLoad, cpuSeconds] = row!.split('\t').map(Number) as number[];
        // Its sampler takes 0.5 s steps for 15 s, then 30 s ones: only jobs in that window compare.
        if (seconds! < 3 || seconds! > 14) {
          t.diagnostic(`${task.name}: ${seconds} s, outside the window where Snakemake's sampler is fine-grained`);
          continue;
        }
        const ourRss = task.resources.peakRssBytes / 1048576;
        const ourCpu = task.resources.cpuNs / 1e9;
        compared.push(
          `${task.name}: rss ${ourRss.toFixed(1)} vs ${maxRssMiB} MiB, cpu ${ourCpu.toFixed(2)} vs ${cpuSeconds} s`,
        );
        // Its max_rss is the largest of its samples. Both jobs hold a plateau for seconds (bwa
        // index's BWT; bwa mem in -K batches), so the sampled max is a fair reference: within 10%.
        assert.ok(Math.abs(ourRss - maxRssMiB!) <= 0.1 * maxRssMiB!, compared.at(-1));
        rssCompared++;
        // Snakemake's cpu_time is the sum at its LAST sample; when psutil fails on a process that
        // just ended, that sample is dropped and cpu_time stays at an early value. Its mean_load
        // (cpu_percent integrated over all samples) tells: the two must agree for cpu_time to count.
        const fromLoad = (meanLoad! / 100) * seconds!;
        // Its last sample comes up to 0.5 s before the end: under 4 s of CPU that tail alone can pass 10%.
        if (cpuSeconds! < 4) continue;
        if (Math.abs(fromLoad - cpuSeconds!) > 0.25 * Math.max(fromLoad, cpuSeconds!)) {
          t.diagnostic(
            `${task.name}: Snakemake's cpu_time ${cpuSeconds} s disagrees with its own mean_load (${fromLoad.toFixed(2)} s): not a reference`,
          );
          continue;
        }
        // Its cpu_time is as of its last sample, up to one 0.5 s step before the job ended.
        const wall = `wall ${(task.resources.wallNs / 1e9).toFixed(2)} s, Snakemake's ${seconds} s, mean_load ${meanLoad}`;
        assert.ok(Math.abs(ourCpu - cpuSeconds!) <= 0.1 * cpuSeconds! + 0.5, `${compared.at(-1)}; ${wall}`);
        cpuCompared++;
      }
      // Snakemake's cpu_time is only a usable reference for jobs of 4 s or more whose mean_load
      // agrees; on a fast or loaded machine no job may qualify, and then there is nothing to
      // compare CPU against (RSS was compared above for every job).
      if (cpuCompared === 0) t.diagnostic(`no job's CPU time was a usable reference: ${compared.join('; ')}`);
      assert.ok(rssCompared > 0, `some job's max_rss was a reference: ${compared.join('; ')}`);
      t.diagnostic(compared.join('; '));

      // What a 0.5 s sampler cannot see: processes that lived less than that, which we list.
      const short = tasksOf(tree).filter((x) => x.endTs !== null && x.endTs - x.startTs < 5e8 && x.tools.length > 0);
      assert.ok(short.length > 0);
      t.diagnostic(
        `short-lived tool processes we list and a 0.5 s sampler misses: ${short.map((x) => `${x.tools.map((y) => `${y.name} [${y.pids}]`).join(', ')} in ${x.name}`).join('; ')}`,
      );
    });

    engineTest('a run with one failing job: that job, and only it, failed', () => {
      const dir = snakemakeDir(`smk${smk.version}-fail`, 1);
      const trace = join(dir, 'trace.jsonl');
      const run = traced(dir, trace, [smk.bin, '-c2', '--config', 'fail=B']);
      assert.equal(run.status, 1);
      const tree = treeOf(trace);
      assert.equal(tree.runs[0]!.status, 'failed');
      const jobs = snakemakeJobs(dir);
      assert.deepEqual(
        jobs.filter((j) => j.status === 'failed').map((j) => j.name),
        ['bwa_map (sample=B)'],
      );
      assertSameJobs(tree, jobs);
      const failed = tasksOf(tree).filter((x) => x.status !== 'succeeded');
      assert.deepEqual(
        failed.map((x) => [x.name, x.status, x.exitCode]),
        [['bwa_map (sample=B)', 'failed', 1]],
      );
      // And the one insight `tracer run` wrote is on bwa mem, the pipe's first failure (its input
      // is missing), not on samtools view, whose status pipefail passed on.
      const insights = readFileSync(trace, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"type":"insight"'))
        .map((l) => JSON.parse(l) as { kind: string; pid: number; category?: string });
      const bwa = failed[0]!.tools.find((x) => x.name === 'bwa mem')!;
      assert.deepEqual(
        insights.map((i) => [i.kind, i.pid, i.category]),
        [['nonzero_exit', bwa.pids[0], 'missing_input']],
      );
    });
  });

// --- cwltool -----------------------------------------------------------------------------------

/** cwltool's own account, from its log: job name -> step and final status. */
function cwltoolJobs(stderr: string): Array<{ step: string; job: string; status: string }> {
  const clean = stderr.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  const out = new Map<string, { step: string; job: string; status: string }>();
  let step = '';
  for (const line of clean.split('\n')) {
    const s = /\[step ([^\]]+)\] start/.exec(line);
    if (s) step = s[1]!;
    const j = /\[job ([^\]]+)\] completed (\w+)/.exec(line);
    // A failing job is reported twice (WARNING and ERROR): one job all the same.
    if (j && !out.has(j[1]!)) out.set(j[1]!, { step, job: j[1]!, status: j[2] === 'success' ? 'succeeded' : 'failed' });
  }
  return [...out.values()];
}

function cwlDir(name: string, fail: string): string {
  const dir = join(dataDir, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['align.cwl', 'index.cwl', 'map.cwl', 'sort.cwl']) cpSync(join(WORKFLOWS, 'cwl', f), join(dir, f));
  assert.equal(spawnSync('sh', [join(WORKFLOWS, 'snakemake/make-data.sh'), dir, '1']).status, 0);
  assert.equal(spawnSync('sh', [join(WORKFLOWS, 'cwl/make-job.sh'), dir, fail]).status, 0);
  return dir;
}

describe('cwltool under tracer run', {
  skip: !have('cwltool') && 'cwltool is not installed (apt-get install cwltool)',
}, () => {
  for (const fail of ['', 'B']) {
    engineTest(fail ? 'a run whose B mapping fails' : 'a succeeding run', (t) => {
      const dir = cwlDir(fail ? 'cwl-fail' : 'cwl-ok', fail);
      const trace = join(dir, 'trace.jsonl');
      const run = traced(dir, trace, ['cwltool', '--outdir', 'out', 'align.cwl', 'job.yml']);
      assert.equal(run.status, fail ? 1 : 0, run.stderr.slice(-2000));
      const tree = treeOf(trace);
      assert.equal(tree.runs[0]!.engine, 'cwltool');
      assert.equal(tree.runs[0]!.status, fail ? 'failed' : 'succeeded');
      const theirs = cwltoolJobs(run.stderr)
        .map((j) => `${j.step} | ${j.job} | ${j.status}`)
        .sort();
      const ours = tasksOf(tree)
        .map((x) => `${x.step} | ${x.name} | ${x.status}`)
        .sort();
      if (run.mode === 'proc') {
        // Without the runner's output (the /proc agent captures none) jobs are named after
        // their tools; the count and statuses still hold.
        t.diagnostic('proc mode: comparing job count and statuses only');
        assert.deepEqual(ours.map((x) => x.split(' | ')[2]).sort(), theirs.map((x) => x.split(' | ')[2]).sort());
        return;
      }
      assert.deepEqual(ours, theirs);
      const tools = (step: string) =>
        [
          ...new Set(
            tasksOf(tree)
              .filter((x) => x.step === step && x.status === 'succeeded')
              .flatMap((x) => x.tools.map((y) => y.name)),
          ),
        ].sort();
      assert.deepEqual(tools('index'), ['bwa index']);
      assert.deepEqual(tools('map'), ['bwa mem', 'samtools view']);
      if (!fail) assert.deepEqual(tools('sort'), ['samtools sort']);
    });
  }
});

// --- toil-cwl-runner ---------------------------------------------------------------------------

/** toil's own account, from its leader log: every issue of a CWLJob, failed or not. */
function toilJobs(stderr: string): Array<{ job: string; status: string }> {
  const issued = [...stderr.matchAll(/Issued job 'CWLJob' (\S+) (kind-\S+) v\d+/g)].map((m) => ({
    job: m[1]!,
    id: m[2]!,
  }));
  const failures = new Map<string, number>();
  for (const m of stderr.matchAll(/Job failed with exit value \d+: 'CWLJob' \S+ (kind-\S+) v\d+/g))
    failures.set(m[1]!, (failures.get(m[1]!) ?? 0) + 1);
  // An issue failed when toil says so; its retry is the next issue of the same job.
  return issued.map(({ job, id }) => {
    const left = failures.get(id) ?? 0;
    if (left > 0) failures.set(id, left - 1);
    return { job, status: left > 0 ? 'failed' : 'succeeded' };
  });
}

describe('toil-cwl-runner under tracer run', {
  skip: !have('toil-cwl-runner') && 'toil is not installed (apt-get install toil)',
}, () => {
  for (const fail of ['', 'B']) {
    engineTest(fail ? 'a run whose B mapping fails, retried once by toil' : 'a succeeding run', (t) => {
      const dir = cwlDir(fail ? 'toil-fail' : 'toil-ok', fail);
      const trace = join(dir, 'trace.jsonl');
      const run = traced(dir, trace, [
        'toil-cwl-runner',
        '--jobStore',
        join(dir, 'js'),
        '--outdir',
        'out',
        'align.cwl',
        'job.yml',
      ]);
      assert.equal(run.status, fail ? 1 : 0, run.stderr.slice(-2000));
      const tree = treeOf(trace);
      assert.equal(tree.runs.length, 1);
      assert.equal(tree.runs[0]!.engine, 'toil');
      assert.equal(tree.runs[0]!.status, fail ? 'failed' : 'succeeded');
      const theirs = toilJobs(run.stderr)
        .map((j) => `${j.job} | ${j.status}`)
        .sort();
      const ours = tasksOf(tree);
      if (run.mode === 'proc') {
        t.diagnostic('proc mode: comparing job count and statuses only');
        assert.deepEqual(ours.map((x) => x.status).sort(), theirs.map((x) => x.split(' | ')[1]).sort());
        return;
      }
      assert.deepEqual(ours.map((x) => `${x.name} | ${x.status}`).sort(), theirs);
      // Steps are the workflow's, not one per scatter shard; the failed job is B's (shard 1).
      assert.deepEqual(
        [...new Set(ours.map((x) => x.step))].sort(),
        fail ? ['index', 'map'] : ['index', 'map', 'sort'],
      );
      if (fail)
        assert.deepEqual(
          ours.filter((x) => x.status === 'failed').map((x) => x.name),
          ['align.cwl.1.map.cwl', 'align.cwl.1.map.cwl'],
        );
      const tools = (step: string) =>
        [
          ...new Set(
            ours.filter((x) => x.step === step && x.status === 'succeeded').flatMap((x) => x.tools.map((y) => y.name)),
          ),
        ].sort();
      assert.deepEqual(tools('index'), ['bwa index']);
      assert.deepEqual(tools('map'), ['bwa mem', 'samtools view']);
      if (!fail) assert.deepEqual(tools('sort'), ['samtools sort']);
    });
  }
});

// --- Nextflow task-wrapper layout ----------------------------------------------------------------

describe('the Nextflow layout under tracer run', {
  skip: !have('javac') && 'no JDK (javac) to build the Nextflow stand-in',
}, () => {
  let classes: string;
  before(() => {
    classes = join(dataDir, 'nf-classes');
    const r = spawnSync('javac', ['-d', classes, join(WORKFLOWS, 'nextflow/nextflow/cli/Launcher.java')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  });

  for (const fail of ['', 'B']) {
    engineTest(fail ? 'a run whose ALIGN (B) task fails' : 'a succeeding run', () => {
      const dir = join(dataDir, fail ? 'nf-fail' : 'nf-ok');
      mkdirSync(dir, { recursive: true });
      assert.equal(spawnSync('sh', [join(WORKFLOWS, 'snakemake/make-data.sh'), dir, '1']).status, 0);
      const name = fail ? 'sad_euler' : 'tiny_turing';
      const argv = [
        'java',
        '-Xms64m',
        '-cp',
        classes,
        'nextflow.cli.Launcher',
        'run',
        'align.nf',
        '-name',
        name,
        ...(fail ? ['--fail', fail] : []),
      ];
      const trace = join(dir, 'trace.jsonl');
      const run = traced(dir, trace, argv);
      assert.equal(run.status, fail ? 1 : 0, run.stderr);
      // The stand-in's own account: `[ab/cdef01] Submitted process > NAME`, status in .exitcode.
      const submitted = [...run.stdout.matchAll(/\[([0-9a-f]{2})\/([0-9a-f]{6})\] Submitted process > (.+)/g)];
      const theirs = submitted
        .map(([, a, b, task]) => {
          const wd = readdirSync(join(dir, 'work', a!)).find((d) => d.startsWith(b!))!;
          const code = readFileSync(join(dir, 'work', a!, wd, '.exitcode'), 'utf8').trim();
          return `${task!.replace(/ \(.*$/, '')} | ${task} | ${code === '0' ? 'succeeded' : 'failed'} | ${a}/${wd}`;
        })
        .sort();
      const tree = treeOf(trace);
      const r0 = tree.runs[0]!;
      assert.deepEqual(
        [r0.engine, r0.pipeline, r0.name, r0.status],
        ['nextflow', 'align', name, fail ? 'failed' : 'succeeded'],
      );
      const ours = tasksOf(tree)
        .map((x) => `${x.step} | ${x.name} | ${x.status} | ${x.engineTaskId}`)
        .sort();
      assert.deepEqual(ours, theirs);
      for (const task of tasksOf(tree).filter((x) => x.status === 'succeeded')) {
        const names = [...new Set(task.tools.map((y) => y.name))].sort();
        const expected =
          task.step === 'INDEX'
            ? ['bwa index']
            : task.step === 'ALIGN'
              ? ['bwa mem', 'samtools view']
              : ['samtools index', 'samtools sort'];
        if (run.mode === 'bpf') assert.deepEqual(names, expected, task.name);
        else for (const n of names) assert.ok(expected.includes(n), `${n} in ${task.name}`);
      }
    });
  }
});
