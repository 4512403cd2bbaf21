// CWL runners: cwltool and toil-cwl-runner.
//
// cwltool (3.1, seen with strace -f): the run is the cwltool process (`/usr/bin/python3
// /usr/bin/cwltool [opts] wf.cwl job.yml`); each job is a direct child started in its own
// output dir (/tmp/xxxxxxxx): the tool itself (`samtools sort ...`) or `/bin/sh -c "..."`
// with ShellCommandRequirement. `nodejs --eval` children evaluate expressions and are not
// jobs. Step and job names come from the runner's log: `[step map] start`, then
// `[job map_2] /tmp/jk9llmp1$ bwa ...` (the job's output dir, which is the process's cwd),
// then `[job map_2] completed success|permanentFail`.
//
// toil-cwl-runner: jobs run in worker processes (`_toil_worker JOBNAME JOBSTORE JOBSTOREID`,
// or `python -m toil.worker ...`) that start the tool; workers of workflow plumbing
// (CWLWorkflow, CWLScatter, CWLGather, ResolveIndirect) run no tool and are not tasks. The
// leader's `Issued job 'CWLJob' align.cwl.0.map.cwl kind-CWLJob/instance-xyz v1` lines (toil
// 5.9, seen live) name a job store id's job: WORKFLOW.cwl. then the step id and its run file
// (`index.index.cwl`), or for a scatter shard its index and the run file (`0.map.cwl`).
import { basename, resolvePath } from './argv.ts';
import { type EngineDetector, isoSeconds, takeLines } from './detector.ts';
import { toolDisplayName } from './tool-rules.ts';
import type { ExecImage, RunState, TaskState } from './types.ts';

interface CwlState {
  runner: 'cwltool' | 'toil';
  log: { text: string };
  step: string | null;
  /** Job output dir -> job and step names, from `[job NAME] DIR$` lines. */
  jobsByDir: Map<string, { job: string; step: string }>;
  /** Job name -> task id once bound, for `completed` lines. */
  taskByJob: Map<string, string>;
  /** toil job store id -> display name. */
  toilNames: Map<string, string>;
}

const TOIL_PLUMBING = new Set([
  'CWLWorkflow',
  'CWLScatter',
  'CWLGather',
  'ResolveIndirect',
  'CWLJobWrapper',
  'CWLNamedJob',
  'EncapsulatedJob',
  'Job',
]);
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes in the runner's log
const ANSI = /\x1b\[[0-9;]*m/g;

function runnerOf(image: ExecImage): 'cwltool' | 'toil' | null {
  const a = image.argv;
  const names = [basename(a[0] ?? ''), basename(image.exe), basename(a[1] ?? '')];
  const m = a.indexOf('-m');
  const mod = m >= 0 ? a[m + 1] : undefined;
  if (names.includes('cwltool') || mod === 'cwltool') return 'cwltool';
  if (names.includes('toil-cwl-runner') || names.includes('cwltoil') || mod === 'toil.cwl.cwltoil') return 'toil';
  return null;
}

function isToilWorker(image: ExecImage): { jobName: string; jobStoreId: string } | null {
  const a = image.argv;
  let i = a.findIndex((x) => basename(x) === '_toil_worker');
  if (i < 0) {
    const m = a.indexOf('-m');
    if (m >= 0 && a[m + 1] === 'toil.worker') i = m + 1;
  }
  if (i < 0) return null;
  const rest = a.slice(i + 1).filter((x) => !x.startsWith('-'));
  return { jobName: rest[0] ?? 'job', jobStoreId: rest[2] ?? rest[1] ?? '' };
}

export const cwlDetector: EngineDetector = {
  engine: 'cwltool',

  matchRun(ctx) {
    const { image } = ctx;
    const runner = runnerOf(image);
    if (!runner) return null;
    if (ctx.runs.some((r) => r.engine === 'cwltool' || r.engine === 'toil')) return null;
    if (image.argv.some((x) => x === '--version' || x === '--help' || x === '--validate' || x === '--print-dot'))
      return null;
    const wfArg = image.argv.find((x) => /\.cwl(#.*)?$/.test(x) || x.includes('.cwl#'));
    const workflow = wfArg ? resolvePath(image.cwd, wfArg.replace(/#.*$/, '')) : null;
    const jobArg = wfArg ? image.argv[image.argv.indexOf(wfArg) + 1] : undefined;
    const attributes: Record<string, string> = { engine: runner, runner };
    if (workflow) attributes.workflow = workflow;
    if (jobArg && !jobArg.startsWith('-')) attributes.jobFile = resolvePath(image.cwd, jobArg);
    const state: CwlState = {
      runner,
      log: { text: '' },
      step: null,
      jobsByDir: new Map(),
      taskByJob: new Map(),
      toilNames: new Map(),
    };
    return {
      pipeline: workflow ? basename(workflow).replace(/\.cwl$/, '') : runner,
      name: isoSeconds(ctx.proc.startTs),
      attributes,
      engineState: state,
    };
  },

  matchTask(run, ctx) {
    const st = run.engineState as CwlState;
    const { image, parent, tool } = ctx;
    if (st.runner === 'toil') {
      const w = isToilWorker(image);
      if (!w || TOIL_PLUMBING.has(w.jobName)) return null;
      const display = st.toilNames.get(w.jobStoreId);
      return {
        step: display ? toilStep(display) : w.jobName,
        name: display ?? w.jobName,
        engineTaskId: w.jobStoreId || null,
        workDir: image.cwd,
        provisional: display === undefined,
      };
    }
    if (!parent || parent.commandUpid !== run.headUpid) return null;
    if (!tool || tool.kind === 'plumbing' || tool.kind === 'ignored') return null;
    // Expression evaluation (`nodejs --eval`), not a job.
    if (tool.kind === 'tool' && (tool.tool === 'node' || tool.tool === 'nodejs')) return null;
    const known = st.jobsByDir.get(image.cwd);
    const guess = toolDisplayName(tool);
    return {
      step: known?.step ?? guess,
      name: known?.job ?? guess,
      workDir: image.cwd,
      provisional: known === undefined,
    };
  },

  onTaskStart(run, task) {
    const st = run.engineState as CwlState;
    const known = task.workDir ? st.jobsByDir.get(task.workDir) : undefined;
    if (known) st.taskByJob.set(known.job, task.id);
  },

  onLog(run, text, ops) {
    const st = run.engineState as CwlState;
    for (const raw of takeLines(st.log, text)) {
      const line = raw.replace(ANSI, '');
      let m = /\[step ([^\]]+)\] start/.exec(line);
      if (m) {
        st.step = m[1]!;
        continue;
      }
      m = /\[job ([^\]]+)\] (\/\S+)\$ /.exec(line);
      if (m) {
        const job = m[1]!;
        const step = st.step && (job === st.step || job.startsWith(`${st.step}_`)) ? st.step : job.replace(/_\d+$/, '');
        st.jobsByDir.set(m[2]!, { job, step });
        const task = [...run.tasks.values()].find((t) => t.workDir === m![2] && t.rootUpid !== null);
        if (task) {
          st.taskByJob.set(job, task.id);
          ops.renameTask(task, { step, name: job, provisional: false });
        }
        continue;
      }
      m = /\[job ([^\]]+)\] completed (\w+)/.exec(line);
      if (m) {
        const taskId = st.taskByJob.get(m[1]!);
        const task = taskId ? run.tasks.get(taskId) : undefined;
        if (task && m[2] !== 'success')
          ops.setTaskStatus(task, task.status === 'killed' ? 'killed' : 'failed', task.exitCode);
        continue;
      }
      // toil leader: `'CWLJob' map kind-CWLJob/instance-abc123 v1`
      m = /'(\w+)' (\S+) (kind-\S+\/instance-[\w-]+)/.exec(line);
      if (m) {
        st.toilNames.set(m[3]!, m[2]!);
        const task = findTask(run, (t) => t.engineTaskId === m![3] && t.stepName !== m![2]);
        if (task) ops.renameTask(task, { step: toilStep(m[2]!), name: m[2]!, provisional: false });
      }
    }
  },
};

/** The CWL step of a toil job name: `align.cwl.index.index.cwl` -> index, `align.cwl.0.map.cwl` -> map. */
export function toilStep(jobName: string): string {
  const name = jobName.replace(/\.cwl$/, '');
  const inner = name.lastIndexOf('.cwl.');
  if (inner < 0) return name;
  const parts = name.slice(inner + 5).split('.');
  if (!/^\d+$/.test(parts[0]!)) return parts[0]!;
  // Scatter shards: their indices, then the run file, which names the step.
  while (parts.length > 1 && /^\d+$/.test(parts[0]!)) parts.shift();
  return parts.join('.');
}

function findTask(run: RunState, f: (t: TaskState) => boolean): TaskState | undefined {
  for (const t of run.tasks.values()) if (f(t)) return t;
  return undefined;
}
