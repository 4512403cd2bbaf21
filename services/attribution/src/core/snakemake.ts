// Snakemake (Debian's 7.x and current 9.x). The run is the `snakemake` process (run by
// python: `/usr/bin/python3 /usr/bin/snakemake -c2` once the kernel has read the #! line) and
// its Snakefile; a step is a rule; a task is one job (rule + wildcards).
//
// Process shapes (strace -f of 7.21, same in 9.x for local jobs): jobs run in threads of the
// snakemake process, each as a direct child
//   shell:   /usr/bin/bash -c "set -euo pipefail;  bwa mem data/ref.fa data/A.fq | ..."
//   script:  the same bash -c, running `python .snakemake/scripts/tmpXXXX.name.py`
//   run:     /bin/sh -c "cd DIR && python3 -m snakemake --snakefile F --target-jobs 'rule:k=v'
//            --allowed-rules 'rule' ... --mode subprocess (9.x)"
// while the scheduler itself starts `cbc`/`glpsol` (the ILP solver), which are not jobs.
// A shell job's argv does not name its rule: the head's log does (`rule NAME:` blocks with
// jobid, input, output and wildcards, then `Finished job N.` or `Error in rule NAME:`). Jobs
// are bound to processes by the files the command names; the Snakefile's shell templates (a
// file fact) name the rule when the log is not captured.
import { basename, dirname, resolvePath } from './argv.ts';
import {
  type AttributionOps,
  type EngineDetector,
  type ExecContext,
  isoSeconds,
  optionValue,
  takeLines,
} from './detector.ts';
import { toolDisplayName } from './tool-rules.ts';
import type { ExecImage, RunState, TaskState } from './types.ts';

interface SmkJob {
  jobid: string;
  rule: string;
  wildcards: Record<string, string>;
  input: string[];
  output: string[];
  log: string[];
  ts: number;
  taskId: string | null;
  finished: boolean;
  failed: boolean;
}

interface RuleTemplate {
  rule: string;
  shell: RegExp | null;
  script: string | null;
}

interface SnakemakeState {
  log: { text: string };
  block: { kind: 'job' | 'error'; rule: string; fields: Record<string, string>; ts: number } | null;
  jobs: Map<string, SmkJob>;
  /** Task id -> what its process runs, for binding jobs by file names. */
  commands: Map<string, string>;
  templates: RuleTemplate[];
  snakefile: string | null;
  workdir: string;
  /** The head's output was captured; else Snakemake's own log file stands in for it. */
  sawLog: boolean;
}

const JOB_FLAGS = ['--target-jobs', '--allowed-rules', '--mode'];

function isSnakemake(image: ExecImage): boolean {
  const a = image.argv;
  if (basename(a[0] ?? '') === 'snakemake' || basename(image.exe) === 'snakemake') return true;
  if (/^python/.test(basename(a[0] ?? image.exe)) || /^python/.test(basename(image.exe))) {
    if (basename(a[1] ?? '') === 'snakemake') return true;
    const m = a.indexOf('-m');
    if (m >= 0 && a[m + 1] === 'snakemake') return true;
  }
  return false;
}

const SNAKEFILES = ['Snakefile', 'snakefile', 'workflow/Snakefile', 'workflow/snakefile'];

/** `rule:k=v,k2=v2` (--target-jobs) -> rule and wildcards. */
function parseTargetJob(spec: string): { rule: string; wildcards: Record<string, string> } {
  const [rule, rest = ''] = spec.split(/:(.*)/s);
  const wildcards: Record<string, string> = {};
  for (const kv of rest.split(',')) {
    const i = kv.indexOf('=');
    if (i > 0) wildcards[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { rule: rule!, wildcards };
}

/** Rule named by a job subprocess's argv or `sh -c` string (run: directives, 7.x and 9.x). */
function ruleFromArgs(text: string): { rule: string; wildcards: Record<string, string> } | null {
  const t = /--target-jobs\s+'?([^'\s]+)'?/.exec(text);
  if (t) return parseTargetJob(t[1]!);
  const a = /--allowed-rules\s+'?([^'\s]+)'?/.exec(text);
  return a ? { rule: a[1]!, wildcards: {} } : null;
}

export function taskNameOf(rule: string, wildcards: Record<string, string>): string {
  const w = Object.entries(wildcards).map(([k, v]) => `${k}=${v}`);
  return w.length > 0 ? `${rule} (${w.join(', ')})` : rule;
}

/** The command a job process runs, without Snakemake's strict-mode prefix. */
function commandOf(image: ExecImage): string {
  const c = image.argv.indexOf('-c');
  const text = c >= 0 ? (image.argv[c + 1] ?? '') : image.argv.join(' ');
  return text.replace(/^\s*set -euo pipefail;\s*/, '').trim();
}

function splitList(v: string | undefined): string[] {
  return v
    ? v
        .split(/,\s*/)
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

function parseWildcards(v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of splitList(v)) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export const snakemakeDetector: EngineDetector = {
  engine: 'snakemake',

  matchRun(ctx) {
    const { image } = ctx;
    if (!isSnakemake(image)) return null;
    if (ctx.runs.some((r) => r.engine === 'snakemake')) return null;
    if (JOB_FLAGS.some((f) => image.argv.includes(f))) return null;
    const dir = optionValue(image.argv, ['-d', '--directory']);
    const workdir = dir ? resolvePath(image.cwd, dir) : image.cwd;
    const given = optionValue(image.argv, ['-s', '--snakefile']);
    const candidates = given ? [resolvePath(image.cwd, given)] : SNAKEFILES.map((f) => `${workdir}/${f}`);
    const snakefile = candidates[0]!;
    const state: SnakemakeState = {
      log: { text: '' },
      block: null,
      jobs: new Map(),
      commands: new Map(),
      templates: [],
      snakefile: given ? snakefile : null,
      workdir,
      sawLog: false,
    };
    return {
      pipeline: pipelineOf(snakefile),
      name: isoSeconds(ctx.proc.startTs),
      attributes: { workdir, ...(given ? { snakefile } : {}) },
      engineState: state,
      wants: candidates.map((path) => ({ path, maxBytes: 262144 })),
    };
  },

  matchTask(run, ctx) {
    const { image, parent } = ctx;
    if (!parent || parent.commandUpid !== run.headUpid) return null;
    if (ctx.tool?.kind === 'plumbing' || ctx.tool?.kind === 'ignored') return null;
    const st = run.engineState as SnakemakeState;
    const text = image.argv.join(' ');
    const target = ruleFromArgs(text);
    const command = commandOf(image);
    const base = { workDir: image.cwd, attributes: { command: command.slice(0, 1024) } };
    if (target) {
      return { ...base, step: target.rule, name: taskNameOf(target.rule, target.wildcards), provisional: false };
    }
    const rule = ruleFromTemplates(st, command);
    if (rule) return { ...base, step: rule, name: rule, provisional: true };
    // Unknown until the log says: name it after what it runs.
    const guess = ctx.tool ? toolDisplayName(ctx.tool) : basename(image.exe);
    return { ...base, step: guess, name: guess, provisional: true };
  },

  onTaskStart(run, task, ops) {
    const st = run.engineState as SnakemakeState;
    st.commands.set(task.id, task.attributes.command ?? '');
    bindJobs(run, st, ops);
  },

  onLog(run, text, ops) {
    const st = run.engineState as SnakemakeState;
    st.sawLog = true;
    for (const line of takeLines(st.log, text)) readLogLine(run, st, line, ops);
  },

  onRunEnd(run, ops) {
    const st = run.engineState as SnakemakeState;
    if (st.block) closeBlock(run, st, ops);
    // No output captured (the /proc agent): Snakemake wrote the same lines to its log file.
    if (!st.sawLog) ops.want(run, `${st.workdir}/.snakemake/log/*.snakemake.log`, 4 * 1024 * 1024, { nearTs: ops.ts });
  },

  onFact(run, fact, ops) {
    const st = run.engineState as SnakemakeState;
    if (fact.path.endsWith('.snakemake.log')) {
      if (fact.text === null || st.sawLog) return;
      st.sawLog = true;
      for (const line of takeLines(st.log, `${fact.text}\n`)) readLogLine(run, st, line, ops);
      if (st.block) closeBlock(run, st, ops);
      ops.updateRun(run, { attributes: { log: fact.resolvedPath ?? fact.path } });
      return;
    }
    if (fact.text === null || st.templates.length > 0) return;
    if (st.snakefile !== null && fact.path !== st.snakefile) return;
    st.snakefile = fact.path;
    st.templates = parseSnakefile(fact.text);
    ops.updateRun(run, { pipeline: pipelineOf(fact.path), attributes: { snakefile: fact.path } });
    // Name the tasks that started before the Snakefile was known.
    for (const task of run.tasks.values()) {
      if (task.engineTaskId !== null || task.rootUpid === null) continue;
      const rule = ruleFromTemplates(st, st.commands.get(task.id) ?? '');
      if (rule && rule !== task.stepName) ops.renameTask(task, { step: rule, name: rule, provisional: true });
    }
  },
};

function pipelineOf(snakefile: string): string {
  const dir = dirname(snakefile);
  return basename(basename(dir) === 'workflow' ? dirname(dir) : dir);
}

function readLogLine(run: RunState, st: SnakemakeState, line: string, ops: AttributionOps): void {
  const indented = /^\s+\S/.test(line);
  if (st.block && indented) {
    const m = /^\s+(\w+):\s*(.*)$/.exec(line);
    if (m) st.block.fields[m[1]!] ??= m[2]!;
    return;
  }
  if (st.block) closeBlock(run, st, ops);
  let m = /^(?:local)?(?:rule|checkpoint) (\S+):$/.exec(line);
  if (m) {
    st.block = { kind: 'job', rule: m[1]!, fields: {}, ts: ops.ts };
    return;
  }
  m = /^Error in rule (\S+):$/.exec(line);
  if (m) {
    st.block = { kind: 'error', rule: m[1]!, fields: {}, ts: ops.ts };
    return;
  }
  m = /^Finished job (\d+)\.|^Finished jobid: (\d+)/.exec(line);
  if (m) {
    finishJob(run, st, m[1] ?? m[2]!, false, ops);
    return;
  }
  m = /^Complete log: (.+\.snakemake\.log)$/.exec(line.trim());
  if (m) {
    const path = m[1]!;
    ops.updateRun(run, { attributes: { log: path.startsWith('/') ? path : `${st.workdir}/${path}` } });
  }
}

function closeBlock(run: RunState, st: SnakemakeState, ops: AttributionOps): void {
  const b = st.block!;
  st.block = null;
  const jobid = b.fields.jobid;
  if (jobid === undefined) return;
  if (b.kind === 'error') {
    if (!st.jobs.has(jobid)) registerJob(st, jobid, b.rule, b.fields, b.ts);
    finishJob(run, st, jobid, true, ops);
    return;
  }
  registerJob(st, jobid, b.rule, b.fields, b.ts);
  bindJobs(run, st, ops);
}

function registerJob(st: SnakemakeState, jobid: string, rule: string, f: Record<string, string>, ts: number): void {
  if (st.jobs.has(jobid)) return;
  st.jobs.set(jobid, {
    jobid,
    rule,
    wildcards: parseWildcards(f.wildcards),
    input: splitList(f.input),
    output: splitList(f.output),
    log: splitList(f.log),
    ts,
    taskId: null,
    finished: false,
    failed: false,
  });
}

function finishJob(run: RunState, st: SnakemakeState, jobid: string, failed: boolean, ops: AttributionOps): void {
  const job = st.jobs.get(jobid);
  if (!job) return;
  job.finished = true;
  job.failed = failed;
  if (job.taskId === null) bindJobs(run, st, ops);
  if (job.taskId === null) {
    // A job whose process ended before it could be bound by files: the last ended unbound task.
    const ended = unboundTasks(run, st).filter((t) => t.endTs !== null);
    const sameRule = ended.filter((t) => t.stepName === job.rule);
    const pick = (sameRule.length > 0 ? sameRule : ended.length === 1 ? ended : []).sort(
      (a, b) => b.endTs! - a.endTs!,
    )[0];
    if (pick) bind(run, job, pick, ops);
  }
  if (job.taskId === null) {
    // Snakemake ran it without a process of its own (`localrule all`): a task all the same.
    const task = ops.createTask(
      run,
      `job-${jobid}`,
      { step: job.rule, name: taskNameOf(job.rule, job.wildcards), engineTaskId: jobid },
      failed ? 'failed' : 'succeeded',
      job.ts,
    );
    job.taskId = task.id;
    return;
  }
  const task = run.tasks.get(job.taskId);
  if (task && failed) ops.setTaskStatus(task, task.status === 'killed' ? 'killed' : 'failed', task.exitCode);
}

function unboundTasks(run: RunState, st: SnakemakeState): TaskState[] {
  const bound = new Set([...st.jobs.values()].map((j) => j.taskId));
  return [...run.tasks.values()].filter((t) => t.rootUpid !== null && !bound.has(t.id) && t.engineTaskId === null);
}

function bind(run: RunState, job: SmkJob, task: TaskState, ops: AttributionOps): void {
  job.taskId = task.id;
  ops.renameTask(task, {
    step: job.rule,
    name: taskNameOf(job.rule, job.wildcards),
    engineTaskId: job.jobid,
    provisional: false,
    attributes: job.output.length > 0 ? { output: job.output.join(', ').slice(0, 1024) } : {},
  });
  if (job.failed) ops.setTaskStatus(task, 'failed', task.exitCode);
  void run;
}

/** Binds log jobs to job processes, best file-name agreement first. */
function bindJobs(run: RunState, st: SnakemakeState, ops: AttributionOps): void {
  const jobs = [...st.jobs.values()].filter((j) => j.taskId === null);
  if (jobs.length === 0) return;
  const tasks = unboundTasks(run, st);
  const pairs: Array<{ job: SmkJob; task: TaskState; score: number }> = [];
  for (const job of jobs) {
    for (const task of tasks) {
      const s = scoreJob(job, task, st);
      if (s > 0) pairs.push({ job, task, score: s });
    }
  }
  pairs.sort((a, b) => b.score - a.score || a.task.startTs - b.task.startTs);
  for (const { job, task } of pairs) {
    if (job.taskId !== null) continue;
    if ([...st.jobs.values()].some((j) => j.taskId === task.id)) continue;
    bind(run, job, task, ops);
  }
}

function scoreJob(job: SmkJob, task: TaskState, st: SnakemakeState): number {
  const command = st.commands.get(task.id) ?? '';
  // A `run:` job names its rule and wildcards in argv.
  const target = ruleFromArgs(command);
  if (target) {
    if (target.rule !== job.rule) return 0;
    const same = Object.entries(job.wildcards).every(([k, v]) => target.wildcards[k] === v);
    return same ? 100 : 0;
  }
  // A task the Snakefile already named belongs to that rule only.
  if (st.templates.some((t) => t.rule === task.stepName) && task.stepName !== job.rule) return 0;
  let score = 0;
  const has = (p: string) => command.includes(p);
  for (const p of job.output) if (has(p)) score += 4;
  for (const p of job.log) if (has(p)) score += 2;
  for (const p of job.input) if (has(p)) score += 1;
  // A Snakefile template that names the same rule is worth as much as an output.
  if (score > 0 && task.stepName === job.rule) score += 4;
  return score;
}

// --- Snakefile -------------------------------------------------------------------------------

/** Reads rule names with their shell templates and script paths; enough to name commands. */
export function parseSnakefile(text: string): RuleTemplate[] {
  const out: RuleTemplate[] = [];
  const lines = text.split('\n');
  let cur: RuleTemplate | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const r = /^(?:local)?(?:rule|checkpoint)\s+(\w+)\s*:/.exec(line);
    if (r) {
      cur = { rule: r[1]!, shell: null, script: null };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const d = /^(\s+)(shell|script)\s*:\s*(.*)$/.exec(line);
    if (!d) continue;
    const indent = d[1]!.length;
    let body = d[3]!;
    while (i + 1 < lines.length) {
      const next = lines[i + 1]!;
      if (next.trim() !== '' && next.length - next.trimStart().length <= indent) break;
      body += `\n${next}`;
      i++;
    }
    const literal = stringLiterals(body);
    if (literal === null) continue;
    if (d[2] === 'script') cur.script = basename(literal);
    else cur.shell = templateRegExp(literal);
  }
  return out;
}

/** The concatenated Python string literals of an expression (`"a" "b"`, `"""..."""`). */
function stringLiterals(expr: string): string | null {
  const re = /("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')/g;
  const parts = [...expr.matchAll(re)].map((m) => {
    const s = m[1]!;
    const q = s.startsWith('"""') || s.startsWith("'''") ? 3 : 1;
    return s.slice(q, -q);
  });
  return parts.length > 0 ? parts.join('') : null;
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

function templateRegExp(template: string): RegExp | null {
  const t = norm(template);
  if (t === '') return null;
  let re = '';
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (c === '{' && t[i + 1] === '{') {
      re += '\\{';
      i++;
    } else if (c === '}' && t[i + 1] === '}') {
      re += '\\}';
      i++;
    } else if (c === '{') {
      const end = t.indexOf('}', i);
      re += '.*?';
      i = end < 0 ? t.length : end;
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 's');
}

function ruleFromTemplates(st: SnakemakeState, command: string): string | null {
  const c = norm(command);
  for (const t of st.templates) {
    if (t.shell?.test(c)) return t.rule;
    if (t.script && c.includes(`.${t.script}`)) return t.rule;
  }
  return null;
}

export type { ExecContext };
