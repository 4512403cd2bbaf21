// The tool a process ran, in a few words: the real program, with shells (`bash -c "..."`)
// and wrappers (`env`, `time`, `nice`, `timeout`, ...) seen through, interpreters named
// with their script (`python align.py`), and the subcommand of tools that have them
// (`samtools sort`). The simple grouping of `tracer run`; engine-aware attribution with a
// rules file is its own issue (DESIGN.md section 7).

import { dropRedirections, SHELL_NAMES, shellInvocation, shellWords, splitShellCommands } from '@tracer/shell';

/** Per wrapper: options that take a value, and how many positional args precede the command. */
interface WrapperSyntax {
  valued: ReadonlySet<string>;
  positionals?: number;
  /** `NAME=value` words before the command (env). */
  assignments?: boolean;
}
const w = (valued: string[], positionals = 0, assignments = false): WrapperSyntax => ({
  valued: new Set(valued),
  positionals,
  assignments,
});
const WRAPPERS: Record<string, WrapperSyntax> = {
  env: w(['-u', '--unset', '-C', '--chdir', '-S', '--split-string'], 0, true),
  time: w(['-f', '--format', '-o', '--output']),
  nice: w(['-n', '--adjustment']),
  nohup: w([]),
  timeout: w(['-s', '--signal', '-k', '--kill-after'], 1),
  stdbuf: w(['-i', '--input', '-o', '--output', '-e', '--error']),
  ionice: w(['-c', '--class', '-n', '--classdata', '-p', '--pid', '-P', '--pgid', '-u', '--uid']),
  taskset: w([], 1),
  chrt: w([], 1),
  setsid: w([]),
  flock: w(['-w', '--timeout', '-E', '--conflict-exit-code'], 1),
  sudo: w(['-u', '--user', '-g', '--group', '-C', '--close-from', '-D', '--chdir', '-h', '--host', '-p', '--prompt']),
  xargs: w(['-a', '-d', '-E', '-I', '-L', '-n', '-P', '-s', '--arg-file', '--delimiter', '--max-args', '--max-procs']),
  command: w([]),
  exec: w(['-a']),
  builtin: w([]),
  'conda-run': w(['-n', '--name', '-p', '--prefix', '--cwd']),
};

const INTERPRETERS =
  /^(python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|Rscript|node|nodejs|php[0-9.]*|julia|lua[0-9.]*)$/;
/** Options of interpreters that take a value (so their value is not mistaken for the script). */
const INTERPRETER_VALUED = new Set(['-W', '-X', '-I', '-e', '-r', '--require', '--import']);

const SUBCOMMAND_TOOLS = new Set([
  'samtools',
  'bcftools',
  'bwa',
  'bwa-mem2',
  'bedtools',
  'gatk',
  'picard',
  'fgbio',
  'seqkit',
  'csvtk',
  'umi_tools',
  'salmon',
  'kallisto',
  'cellranger',
  'spaceranger',
  'git',
  'docker',
  'podman',
  'kubectl',
  'aws',
  'gsutil',
  'gcloud',
  'conda',
  'mamba',
  'micromamba',
  'pip',
  'pip3',
  'nextflow',
  'npm',
  'pnpm',
  'cargo',
  'go',
  'apt-get',
  'dnf',
  'yum',
]);
const SUBCOMMAND = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** Shell words that are not the program a command runs. */
const SKIPPED_COMMANDS = new Set([
  'cd',
  'export',
  'set',
  'unset',
  'source',
  '.',
  ':',
  'true',
  'false',
  'umask',
  'ulimit',
  'trap',
  'shopt',
  'alias',
  'local',
  'declare',
  'typeset',
  'readonly',
  'wait',
  'pushd',
  'popd',
  'for',
  'case',
  'esac',
  'done',
  'fi',
  'return',
  'exit',
  'break',
  'continue',
  'shift',
  'test',
  '[',
  '[[',
  'sleep',
  'echo',
  'printf',
  'read',
  'kill',
]);
/** Skipped words that are programs too: the label when nothing else runs. */
const EXTERNAL_SKIPPED = new Set(['sleep', 'true', 'false', 'test', 'echo', 'printf', 'kill']);
const RESERVED_PREFIX = new Set(['if', 'then', 'else', 'elif', 'while', 'until', 'do', '!', 'time', '{', '(']);

const MAX_DEPTH = 8;

export const basename = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const progName = (word: string) => basename(word).replace(/^-/, '');

/** The tool label of a process from its argv (and exe when argv is empty). */
export function labelTool(argv: readonly string[] | undefined, exe?: string): string {
  const label = argv && argv.length > 0 ? labelArgv(argv, 0) : undefined;
  if (label) return label;
  return exe ? progName(exe) : '?';
}

/** Whether the program is a shell or a wrapper that only runs another program. */
export function isShellOrWrapper(argv: readonly string[] | undefined, exe?: string): boolean {
  const name = progName(argv?.[0] ?? exe ?? '');
  return SHELL_NAMES.has(name) || Object.hasOwn(WRAPPERS, name) || name === 'tracer';
}

function labelArgv(argv: readonly string[], depth: number): string | undefined {
  const first = argv[0];
  if (first === undefined) return undefined;
  const name = progName(first);
  if (depth > MAX_DEPTH) return name;

  if (SHELL_NAMES.has(name)) return labelShell(name, argv, depth);

  const wrapperKey =
    (name === 'conda' || name === 'mamba' || name === 'micromamba') && argv[1] === 'run' ? 'conda-run' : name;
  const wrapper = WRAPPERS[wrapperKey];
  if (wrapper) {
    const start = wrapperKey === 'conda-run' ? 2 : 1;
    const rest = argv.slice(start + skipOptions(argv.slice(start), wrapper));
    if (name === 'env') {
      const split = splitStringOption(argv);
      if (split) return labelArgv(split, depth + 1) ?? name;
    }
    return labelArgv(rest, depth + 1) ?? name;
  }

  if (INTERPRETERS.test(name)) return labelInterpreter(name, argv);
  if (name === 'java') return labelJava(argv);
  const sub = argv[1];
  if (SUBCOMMAND_TOOLS.has(name) && sub !== undefined && SUBCOMMAND.test(sub)) return `${name} ${sub}`;
  return name;
}

/** How many words of `args` are the wrapper's own options and positionals. */
function skipOptions(args: readonly string[], syntax: WrapperSyntax): number {
  let i = 0;
  let positionals = syntax.positionals ?? 0;
  while (i < args.length) {
    const a = args[i]!;
    if (a === '--') return i + 1 + positionals;
    if (a.startsWith('-') && a.length > 1) {
      // `-n 10` takes the next word; `-n10` and `--adjustment=10` carry their value.
      const attached = a.includes('=') || (!a.startsWith('--') && a.length > 2 && syntax.valued.has(a.slice(0, 2)));
      i += !attached && syntax.valued.has(a) ? 2 : 1;
      continue;
    }
    if (syntax.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      i++;
      continue;
    }
    if (positionals > 0) {
      positionals--;
      i++;
      continue;
    }
    return i;
  }
  return i;
}

function splitStringOption(argv: readonly string[]): string[] | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-S' || a === '--split-string') return shellWords(argv[i + 1] ?? '').concat(argv.slice(i + 2));
    if (a.startsWith('--split-string=')) return shellWords(a.slice(15)).concat(argv.slice(i + 1));
    if (!a.startsWith('-')) return undefined;
  }
  return undefined;
}

function labelShell(name: string, argv: readonly string[], depth: number): string {
  const run = shellInvocation(argv.slice(1));
  if (run && 'script' in run) return labelCommandString(run.script, depth + 1) ?? name;
  return run ? `${name} ${basename(run.file)}` : name;
}

function labelInterpreter(name: string, argv: readonly string[]): string {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-m' || a === '-c') {
      const mod = argv[i + 1];
      return a === '-m' && mod ? `${name} -m ${mod}` : `${name} -c`;
    }
    if (
      a === '-e' &&
      (name.startsWith('perl') || name.startsWith('ruby') || name === 'Rscript' || name.startsWith('node'))
    ) {
      return `${name} -e`;
    }
    if (INTERPRETER_VALUED.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return `${name} ${basename(a)}`;
  }
  return name;
}

function labelJava(argv: readonly string[]): string {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-jar') {
      const jar = argv[i + 1];
      if (jar === undefined) return 'java';
      const sub = argv[i + 2];
      return sub !== undefined && /^[A-Z][A-Za-z0-9]+$/.test(sub)
        ? `java ${basename(jar)} ${sub}`
        : `java ${basename(jar)}`;
    }
    if (a === '-cp' || a === '-classpath' || a === '--class-path' || a === '-p' || a === '--module-path') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return `java ${a.slice(a.lastIndexOf('.') + 1)}`;
  }
  return 'java';
}

/** The program of the first command in a shell string that does real work. */
function labelCommandString(script: string, depth: number): string | undefined {
  const commands = splitShellCommands(script);
  let fallback: string[] | undefined;
  for (const words of commands) {
    let cmd = dropRedirections(words);
    while (cmd.length > 0 && (RESERVED_PREFIX.has(cmd[0]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(cmd[0]!)))
      cmd = cmd.slice(1);
    const first = cmd[0];
    if (first === undefined || first.startsWith('$(') || first === 'function') continue;
    if (SKIPPED_COMMANDS.has(first)) {
      // `sleep 10` alone is the work; `sleep 1; bwa ...` is not.
      if (!fallback && EXTERNAL_SKIPPED.has(first)) fallback = cmd;
      continue;
    }
    return labelArgv(cmd, depth);
  }
  return fallback ? labelArgv(fallback, depth) : undefined;
}
