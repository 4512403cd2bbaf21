// Nextflow. The head is `java ... nextflow.cli.Launcher run PIPELINE [-name RUN]` (or the
// `nextflow` launcher script before it execs java). Each task is the `.command.run` wrapper
// the executor starts in the task's work dir (work/<2 hex>/<30 hex>): the local executor runs
// `/bin/bash -c "/bin/bash -ue .command.run &> .command.log"`, the wrapper launches
// `/bin/bash -ue .command.sh` through tee into .command.out/.command.err, and exits with the
// task's status (also written to .exitcode).
//
// From argv and cwd alone we know the work-dir hash; the step and task names come from the
// `# NEXTFLOW TASK: NAME (TAG)` header of .command.run (a file fact) or from the head's own
// log lines (`[ab/cdef01] Submitted process > NAME (TAG)`).
import { basename, resolvePath } from './argv.ts';
import { type EngineDetector, isoSeconds, optionValue, takeLines } from './detector.ts';
import type { ExecImage, RunState, TaskState } from './types.ts';

const WORK_DIR = /(?:^|\/)([0-9a-f]{2})\/([0-9a-f]{30})(?:\/|$)/;
const HEADER = /^# NEXTFLOW TASK: (.+?)\s*$/m;
const SUBMITTED = /\[([0-9a-f]{2}\/[0-9a-f]{6})\] (?:Submitted|Cached) process > (.+?)\s*$/;
const RUN_NAME_LOG = /Launching `([^`]+)` \[([^\]]+)\]/;
const SESSION_LOG = /Session UUID: ([0-9a-f-]{36})/;

/** Options of `nextflow run` that take a value (so the pipeline is not mistaken for one). */
const RUN_OPTIONS_WITH_VALUE = new Set([
  '-name',
  '-profile',
  '-c',
  '-config',
  '-params-file',
  '-w',
  '-work-dir',
  '-r',
  '-revision',
  '-qs',
  '-queue-size',
  '-entry',
  '-main-script',
  '-plugins',
  '-with-docker',
  '-with-singularity',
  '-with-apptainer',
  '-with-conda',
  '-bucket-dir',
  '-user',
  '-hub',
  '-log',
  '-C',
  '-D',
  '-e',
  '-test',
  '-dump-channels',
]);

interface NextflowState {
  /** Hash prefix (`ab/cdef01`) -> name and submission time from the head's log. */
  submitted: Map<string, { name: string; ts: number }>;
  log: { text: string };
  /** Tasks by hash prefix, for log lines that arrive after the task started. */
  tasks: Map<string, string>;
  launchDir: string;
}

/** Where `nextflow.cli.Launcher` sits in argv, or -1. */
function launcherIndex(image: ExecImage): number {
  const i = image.argv.indexOf('nextflow.cli.Launcher');
  if (i >= 0) return i;
  // The `nextflow` launcher script, run by bash before it execs java.
  const script = image.argv.findIndex((a, k) => k <= 1 && basename(a) === 'nextflow');
  return script;
}

function pipelineOf(args: string[]): string | null {
  const run = args.indexOf('run');
  if (run < 0) return null;
  for (let i = run + 1; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      i++;
      continue;
    }
    if (a.startsWith('-')) {
      if (RUN_OPTIONS_WITH_VALUE.has(a)) i++;
      continue;
    }
    return a;
  }
  return null;
}

/** `nf-core/rnaseq` stays; `./pipelines/align/main.nf` is `align`; `hello.nf` is `hello`. */
function pipelineName(p: string): string {
  if (!p.endsWith('.nf')) return p;
  const file = basename(p);
  if (file === 'main.nf') {
    const dir = p.slice(0, -'/main.nf'.length);
    return dir && dir !== '.' ? basename(dir) : 'main';
  }
  return file.slice(0, -3);
}

export function nextflowWorkDir(image: ExecImage): { dir: string; hash: string } | null {
  for (const candidate of [image.cwd, ...image.argv.filter((a) => a.includes('.command.run'))]) {
    const m = WORK_DIR.exec(candidate);
    if (m) {
      const end = candidate.indexOf(m[2]!) + m[2]!.length;
      const dir = candidate.startsWith('/') ? candidate.slice(0, end) : resolvePath(image.cwd, candidate.slice(0, end));
      return { dir, hash: `${m[1]}/${m[2]}` };
    }
  }
  return null;
}

/** `FASTQC (sample1)` -> step FASTQC; `NFCORE:RNASEQ:FASTQC (s1)` keeps the qualified name. */
export function splitTaskName(full: string): { step: string; name: string } {
  const m = /^(.*?)\s+\((.*)\)$/.exec(full);
  return { step: m ? m[1]! : full, name: full };
}

export const nextflowDetector: EngineDetector = {
  engine: 'nextflow',

  matchRun(ctx) {
    const { image } = ctx;
    if (ctx.runs.some((r) => r.engine === 'nextflow')) return null;
    const li = launcherIndex(image);
    if (li < 0) return null;
    const args = image.argv.slice(li + 1);
    const pipeline = pipelineOf(args);
    if (pipeline === null) return null;
    const name = optionValue(args, ['-name']);
    const attributes: Record<string, string> = { launchDir: image.cwd, pipelineArg: pipeline };
    const work = optionValue(args, ['-w', '-work-dir']);
    if (work) attributes.workDir = resolvePath(image.cwd, work);
    const profile = optionValue(args, ['-profile']);
    if (profile) attributes.profile = profile;
    if (args.includes('-resume')) attributes.resume = 'true';
    const state: NextflowState = { submitted: new Map(), log: { text: '' }, tasks: new Map(), launchDir: image.cwd };
    return {
      pipeline: pipeline === 'main.nf' || pipeline === './main.nf' ? basename(image.cwd) : pipelineName(pipeline),
      name: name ?? isoSeconds(ctx.proc.startTs),
      attributes: name ? { ...attributes, runNameFrom: 'argv' } : attributes,
      engineState: state,
      wants: [{ path: `${image.cwd}/.nextflow.log`, maxBytes: 65536 }],
    };
  },

  matchTask(run, ctx) {
    const { image } = ctx;
    if (!image.argv.some((a) => a.includes('.command.run'))) return null;
    const wd = nextflowWorkDir(image);
    if (!wd) return null;
    const short = wd.hash.slice(0, 9);
    const st = run.engineState as NextflowState;
    const seen = st.submitted.get(short);
    const named = seen ? splitTaskName(seen.name) : null;
    return {
      step: named?.step ?? 'unknown',
      name: named?.name ?? short,
      engineTaskId: wd.hash,
      workDir: wd.dir,
      provisional: named === null,
      queueNs: seen ? Math.max(0, ctx.proc.startTs - seen.ts) : null,
      wants: [{ path: `${wd.dir}/.command.run`, maxBytes: 1024 }],
    };
  },

  onTaskStart(run, task) {
    const st = run.engineState as NextflowState;
    if (task.engineTaskId) st.tasks.set(task.engineTaskId.slice(0, 9), task.id);
  },

  onTaskEnd(run, task, ops) {
    if (task.workDir) ops.want(run, `${task.workDir}/.exitcode`, 64);
  },

  onLog(run, text, ops) {
    const st = run.engineState as NextflowState;
    for (const line of takeLines(st.log, text)) {
      const m = SUBMITTED.exec(line);
      if (!m) continue;
      const [, short, full] = m;
      st.submitted.set(short!, { name: full!, ts: ops.ts });
      const taskId = st.tasks.get(short!);
      const task = taskId ? run.tasks.get(taskId) : undefined;
      if (task && task.name === short) ops.renameTask(task, { ...splitTaskName(full!), provisional: false });
    }
  },

  onFact(run, fact, ops) {
    if (fact.text === null) return;
    if (fact.path.endsWith('/.nextflow.log')) {
      const m = RUN_NAME_LOG.exec(fact.text);
      const session = SESSION_LOG.exec(fact.text);
      const attributes: Record<string, string> = {};
      if (session) attributes.sessionId = session[1]!;
      if (m && run.attributes.runNameFrom !== 'argv') {
        ops.updateRun(run, { name: m[2]!, attributes: { ...attributes, runNameFrom: '.nextflow.log' } });
      } else if (session) {
        ops.updateRun(run, { attributes });
      }
      return;
    }
    const task = taskByFile(run, fact.path);
    if (!task) return;
    if (fact.path.endsWith('/.command.run')) {
      const m = HEADER.exec(fact.text);
      if (m) ops.renameTask(task, { ...splitTaskName(m[1]!), provisional: false });
    } else if (fact.path.endsWith('/.exitcode')) {
      const code = Number.parseInt(fact.text.trim(), 10);
      if (Number.isInteger(code)) {
        const killed = task.status === 'killed' || task.oomKilled;
        ops.setTaskStatus(task, killed ? 'killed' : code === 0 ? 'succeeded' : 'failed', code);
      }
    }
  },
};

function taskByFile(run: RunState, path: string): TaskState | undefined {
  const dir = path.slice(0, path.lastIndexOf('/'));
  for (const t of run.tasks.values()) if (t.workDir === dir) return t;
  return undefined;
}
