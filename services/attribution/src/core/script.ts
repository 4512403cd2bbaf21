// Plain scripts (DESIGN.md section 7): the traced root command is the run and each command it
// starts directly is a step; repeated commands (a loop over samples) are tasks of one step.
// `--pipeline` / `--run` labels on trace.start name the run (applied by the attributor).
import { basename } from './argv.ts';
import { type EngineDetector, isoSeconds } from './detector.ts';
import { toolDisplayName } from './tool-rules.ts';
import type { ProcState, RunState } from './types.ts';

interface ScriptState {
  /** How many tasks each step name has had, for `bwa mem (2)`. */
  counts: Map<string, number>;
}

/** The script a root runs (`bash align.sh` -> align.sh), or its program. */
function rootName(argv: string[], exe: string): string {
  const prog = basename(argv[0] ?? exe);
  const script = argv.slice(1).find((a) => !a.startsWith('-'));
  if (script && /\.(sh|bash|py|R|r|pl|rb|js|nf|smk)$/.test(script)) return basename(script);
  return prog;
}

export const scriptDetector: EngineDetector = {
  engine: 'script',

  matchRun(ctx) {
    const { image } = ctx;
    return {
      pipeline: rootName(image.argv, image.exe),
      name: isoSeconds(ctx.proc.startTs),
      attributes: { command: image.argv.join(' ').slice(0, 1024), cwd: image.cwd },
      engineState: { counts: new Map() } satisfies ScriptState,
    };
  },

  matchTask(run, ctx) {
    const { proc, tool } = ctx;
    const root = run.rootUpid;
    if (root === null) return null;
    if (proc.upid === root) {
      // The root itself is the work (`tracer run -- bwa mem ...`, or `sh -c` exec'ing its
      // last command): one step. A shell or wrapper root only organises its children.
      if (tool?.kind !== 'tool') return null;
    } else if (!isDirectChild(proc, root, ctx.getProc)) {
      return null;
    }
    if (tool?.kind === 'plumbing' && proc.upid !== root) {
      // `mkdir -p out`, `echo`: housekeeping, not a step of its own; its figures stay in the run.
      return null;
    }
    const step = tool ? toolDisplayName(tool) : basename(ctx.image.exe);
    const st = run.engineState as ScriptState;
    const n = (st.counts.get(step) ?? 0) + 1;
    st.counts.set(step, n);
    return { step, name: n === 1 ? step : `${step} (${n})` };
  },
};

/** A command the root started: its parent is the root, or a subshell the root forked. */
function isDirectChild(proc: ProcState, rootUpid: string, getProc: (u: string) => ProcState | undefined): boolean {
  const parent = proc.parentUpid ? getProc(proc.parentUpid) : undefined;
  return parent !== undefined && parent.commandUpid === rootUpid;
}

export type { RunState };
