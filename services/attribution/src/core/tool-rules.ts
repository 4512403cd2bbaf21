// Tool detection: which program a process is (bwa mem, samtools sort, STAR alignReads, picard
// MarkDuplicates, a python script), seeing through shells, wrappers, interpreters and java.
// The rules are data (data/tool-rules.yaml); this module validates them and applies them.
import { shellInvocation } from '@tracer/shell';
import { basename, globToRegExp, programCommands } from './argv.ts';

/** How a tool's subcommand is read from its arguments. */
export interface SubcommandSpec {
  /** `positional`: the first argument that is not an option; `option`: the value of `option`. */
  style: 'positional' | 'option';
  /** Accepted subcommands; absent = any word. */
  values?: string[];
  option?: string;
  /** When the option is absent (STAR without --runMode aligns reads). */
  default?: string;
  /** Options before the subcommand that take a value (`gatk --java-options "-Xmx4g" HaplotypeCaller`). */
  optionsWithValue?: string[];
}

export interface ToolRule {
  name: string;
  /** Executable basenames or globs, also matched against interpreter scripts and shell scripts. */
  exe?: string[];
  /** Interpreter scripts only (python/Rscript/perl `script` basenames or globs). */
  script?: string[];
  /** `python -m <module>` */
  module?: string[];
  /** `java -jar <jar>` basename globs */
  jar?: string[];
  /** java main classes */
  class?: string[];
  subcommand?: SubcommandSpec;
}

export interface WrapperRule {
  name: string;
  exe: string[];
  /** Words that must follow the wrapper (`conda run`, `singularity exec`, `docker run`). */
  subcommands?: string[];
  optionsWithValue?: string[];
  /** Positional arguments before the wrapped command (timeout's duration, the container image). */
  positionals?: number;
  /** `env`: skip NAME=value words. */
  assignments?: boolean;
  /** The wrapped command runs elsewhere (docker daemon): the wrapper process stands for it. */
  remote?: boolean;
}

export interface InterpreterRule {
  name: string;
  exe: string[];
  /** Options that take a value (python -W arg, java -cp path). */
  optionsWithValue?: string[];
  /** Options whose value is code, not a script (python -c, Rscript -e, perl -e). */
  codeOptions?: string[];
  /** python -m */
  moduleOption?: string;
}

export interface ToolRulesFile {
  version: 1;
  /** Arguments that only ask for the version or usage: such runs are not tool executions. */
  ignoreArgs: string[];
  shells: string[];
  interpreters: InterpreterRule[];
  java: { exe: string[]; optionsWithValue: string[] };
  wrappers: WrapperRule[];
  /** Housekeeping programs never listed as tools (coreutils, the engines' own helpers). */
  plumbing: string[];
  tools: ToolRule[];
}

export class ToolRulesError extends Error {
  override name = 'ToolRulesError';
}

type NameMatcher = { exact: Map<string, ToolRule[]>; globs: Array<{ re: RegExp; rule: ToolRule }> };

export interface ToolRules {
  readonly file: ToolRulesFile;
  readonly ignoreArgs: Set<string>;
  readonly shells: Set<string>;
  readonly plumbing: Set<string>;
  readonly interpreters: Map<string, InterpreterRule>;
  readonly javaExe: Set<string>;
  readonly wrappers: Map<string, WrapperRule>;
  readonly byExe: NameMatcher;
  readonly byScript: NameMatcher;
  readonly byModule: Map<string, ToolRule>;
  readonly byJar: NameMatcher;
  readonly byClass: Map<string, ToolRule>;
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0);

/**
 * Validates a parsed rules document and indexes it. Every error names the rule (`tools[12]
 * (samtools)`) and the field, so a bad edit to the data file fails loudly at start.
 */
export function compileToolRules(doc: unknown): ToolRules {
  const fail = (where: string, what: string): never => {
    throw new ToolRulesError(`tool rules: ${where}: ${what}`);
  };
  if (typeof doc !== 'object' || doc === null) fail('document', 'is not a mapping');
  const d = doc as Record<string, unknown>;
  if (d.version !== 1) fail('version', `must be 1, got ${JSON.stringify(d.version)}`);
  for (const key of ['ignoreArgs', 'shells', 'plumbing'] as const) {
    if (!isStringArray(d[key])) fail(key, 'must be a list of names');
  }
  const known = new Set(['version', 'ignoreArgs', 'shells', 'interpreters', 'java', 'wrappers', 'plumbing', 'tools']);
  for (const key of Object.keys(d)) if (!known.has(key)) fail(key, 'unknown top-level key');

  const checkKeys = (where: string, o: Record<string, unknown>, allowed: string[]) => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(where, `unknown key "${k}"`);
  };
  const list = (where: string, v: unknown, name: string): Record<string, unknown>[] => {
    if (!Array.isArray(v)) fail(name, 'must be a list');
    return (v as unknown[]).map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) fail(`${where}[${i}]`, 'must be a mapping');
      return item as Record<string, unknown>;
    });
  };
  const names = (where: string, o: Record<string, unknown>, key: string, required = false) => {
    const v = o[key];
    if (v === undefined) {
      if (required) fail(where, `"${key}" is required`);
      return;
    }
    if (!isStringArray(v)) fail(where, `"${key}" must be a list of non-empty strings`);
  };

  const interpreters = list('interpreters', d.interpreters, 'interpreters');
  interpreters.forEach((r, i) => {
    const where = `interpreters[${i}] (${String(r.name)})`;
    checkKeys(where, r, ['name', 'exe', 'optionsWithValue', 'codeOptions', 'moduleOption']);
    if (typeof r.name !== 'string') fail(where, '"name" is required');
    names(where, r, 'exe', true);
    names(where, r, 'optionsWithValue');
    names(where, r, 'codeOptions');
  });
  const java = d.java as Record<string, unknown> | undefined;
  if (typeof java !== 'object' || java === null) fail('java', 'must be a mapping');
  names('java', java!, 'exe', true);
  names('java', java!, 'optionsWithValue', true);
  const wrappers = list('wrappers', d.wrappers, 'wrappers');
  wrappers.forEach((r, i) => {
    const where = `wrappers[${i}] (${String(r.name)})`;
    checkKeys(where, r, ['name', 'exe', 'subcommands', 'optionsWithValue', 'positionals', 'assignments', 'remote']);
    if (typeof r.name !== 'string') fail(where, '"name" is required');
    names(where, r, 'exe', true);
    names(where, r, 'subcommands');
    names(where, r, 'optionsWithValue');
    if (r.positionals !== undefined && !(Number.isInteger(r.positionals) && (r.positionals as number) >= 0)) {
      fail(where, '"positionals" must be a non-negative integer');
    }
  });
  const tools = list('tools', d.tools, 'tools');
  const seen = new Set<string>();
  tools.forEach((r, i) => {
    const where = `tools[${i}] (${String(r.name)})`;
    checkKeys(where, r, ['name', 'exe', 'script', 'module', 'jar', 'class', 'subcommand']);
    if (typeof r.name !== 'string' || r.name.length === 0) fail(where, '"name" is required');
    if (seen.has(r.name as string)) fail(where, 'duplicate tool name');
    seen.add(r.name as string);
    for (const k of ['exe', 'script', 'module', 'jar', 'class']) names(where, r, k);
    if (!['exe', 'script', 'module', 'jar', 'class'].some((k) => r[k] !== undefined)) {
      fail(where, 'needs at least one of exe, script, module, jar, class');
    }
    const s = r.subcommand as Record<string, unknown> | undefined;
    if (s !== undefined) {
      if (typeof s !== 'object' || s === null) fail(where, '"subcommand" must be a mapping');
      checkKeys(`${where} subcommand`, s, ['style', 'values', 'option', 'default', 'optionsWithValue']);
      if (s.style !== 'positional' && s.style !== 'option')
        fail(where, 'subcommand.style must be positional or option');
      if (s.style === 'option' && typeof s.option !== 'string')
        fail(where, 'subcommand.option is required with style option');
      names(`${where} subcommand`, s, 'values');
      names(`${where} subcommand`, s, 'optionsWithValue');
      if (s.default !== undefined && typeof s.default !== 'string') fail(where, 'subcommand.default must be a string');
    }
  });

  const file = d as unknown as ToolRulesFile;
  const matcher = (): NameMatcher => ({ exact: new Map(), globs: [] });
  const add = (m: NameMatcher, name: string, rule: ToolRule) => {
    if (/[*?]/.test(name)) m.globs.push({ re: globToRegExp(name), rule });
    else m.exact.set(name, [...(m.exact.get(name) ?? []), rule]);
  };
  const byExe = matcher();
  const byScript = matcher();
  const byJar = matcher();
  const byModule = new Map<string, ToolRule>();
  const byClass = new Map<string, ToolRule>();
  for (const rule of file.tools) {
    for (const e of rule.exe ?? []) {
      add(byExe, e, rule);
      add(byScript, e, rule);
    }
    for (const s of rule.script ?? []) add(byScript, s, rule);
    for (const j of rule.jar ?? []) add(byJar, j, rule);
    for (const m of rule.module ?? []) byModule.set(m, rule);
    for (const c of rule.class ?? []) byClass.set(c, rule);
  }
  const interpreterMap = new Map<string, InterpreterRule>();
  for (const r of file.interpreters) for (const e of r.exe) interpreterMap.set(e, r);
  const wrapperMap = new Map<string, WrapperRule>();
  for (const r of file.wrappers) for (const e of r.exe) wrapperMap.set(e, r);
  return {
    file,
    ignoreArgs: new Set(file.ignoreArgs),
    shells: new Set(file.shells),
    plumbing: new Set(file.plumbing),
    interpreters: interpreterMap,
    javaExe: new Set(file.java.exe),
    wrappers: wrapperMap,
    byExe,
    byScript,
    byModule,
    byJar,
    byClass,
  };
}

function lookup(m: NameMatcher, name: string): ToolRule | undefined {
  const exact = m.exact.get(name);
  if (exact) return exact[0];
  return m.globs.find((g) => g.re.test(name))?.rule;
}

/** What a process image is, as far as tools go. */
export type ToolMatch =
  | {
      kind: 'tool';
      tool: string;
      subcommand: string | null;
      /** False when no rule matched: the name is the executable's or the script's. */
      known: boolean;
      /** The interpreter or remote wrapper it was seen through (python, java, docker). */
      via: string | null;
    }
  /** A shell or a wrapper: not a tool itself; `inner` is what it runs, read from its argv. */
  | { kind: 'wrapper'; wrapper: string; inner: ToolMatch | null }
  /** `--version` / `--help` runs. */
  | { kind: 'ignored'; tool: string }
  | { kind: 'plumbing'; name: string };

/** Strips interpreter version suffixes so python3.11 finds the python3 rule. */
function programName(exe: string, argv0: string | undefined): string[] {
  const names = [basename(exe)];
  if (argv0) names.push(basename(argv0));
  return names;
}

function skipOptions(args: string[], withValue: Set<string>, from = 0): number {
  let i = from;
  while (i < args.length) {
    const a = args[i]!;
    if (a === '--') return i + 1;
    if (!a.startsWith('-') || a === '-') return i;
    if (withValue.has(a)) i += 2;
    else i += 1;
  }
  return i;
}

function subcommandOf(rule: ToolRule, args: string[]): string | null {
  const spec = rule.subcommand;
  if (!spec) return null;
  if (spec.style === 'option') {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === spec.option) return args[i + 1] ?? spec.default ?? null;
      if (a.startsWith(`${spec.option}=`)) return a.slice(spec.option!.length + 1);
    }
    return spec.default ?? null;
  }
  const i = skipOptions(args, new Set(spec.optionsWithValue ?? []));
  const word = args[i];
  if (word === undefined) return spec.default ?? null;
  if (spec.values) return spec.values.includes(word) ? word : (spec.default ?? null);
  return /^[A-Za-z][\w.+-]*$/.test(word) ? word : (spec.default ?? null);
}

function toolOf(rules: ToolRules, rule: ToolRule, args: string[], via: string | null): ToolMatch {
  if (args.length > 0 && args.every((a) => rules.ignoreArgs.has(a))) return { kind: 'ignored', tool: rule.name };
  const subcommand = subcommandOf(rule, args);
  // `samtools help`, `bwa mem --help`: asks for usage, runs nothing.
  if (subcommand !== null && rules.ignoreArgs.has(subcommand)) return { kind: 'ignored', tool: rule.name };
  const rest = args.filter((a) => a !== subcommand);
  if (rest.length > 0 && rest.every((a) => rules.ignoreArgs.has(a))) return { kind: 'ignored', tool: rule.name };
  return { kind: 'tool', tool: rule.name, subcommand, known: true, via };
}

const MAX_DEPTH = 8;

/**
 * Names the tool a process image runs. `exe` is the executable the kernel loaded (for a
 * `#!` script, the interpreter), `argv` the arguments as exec'd.
 */
export function detectTool(rules: ToolRules, exe: string, argv: string[], depth = 0): ToolMatch | null {
  if (depth > MAX_DEPTH) return null;
  const names = programName(exe, argv[0]);
  const args = argv.slice(1);
  const primary = names.find((n) => n.length > 0) ?? '';

  // A rule naming the executable itself wins: `STAR`, `bwa`, `fastqc`.
  for (const n of names) {
    const rule = lookup(rules.byExe, n);
    if (rule && !rules.shells.has(n) && !rules.interpreters.has(n) && !rules.javaExe.has(n)) {
      return toolOf(rules, rule, args, null);
    }
  }
  const shell = names.find((n) => rules.shells.has(n));
  if (shell) return { kind: 'wrapper', wrapper: shell, inner: seeThroughShell(rules, args, depth) };
  const wrapperName = names.find((n) => rules.wrappers.has(n));
  if (wrapperName) {
    const w = rules.wrappers.get(wrapperName)!;
    return seeThroughWrapper(rules, w, args, depth);
  }
  const javaName = names.find((n) => rules.javaExe.has(n));
  if (javaName) return detectJava(rules, args);
  const interp = names
    .map((n) => rules.interpreters.get(n) ?? rules.interpreters.get(n.replace(/[\d.]+$/, '')))
    .find(Boolean);
  if (interp) return detectInterpreted(rules, interp, args, depth);
  if (names.some((n) => rules.plumbing.has(n))) return { kind: 'plumbing', name: primary };
  if (args.length > 0 && args.every((a) => rules.ignoreArgs.has(a))) return { kind: 'ignored', tool: primary };
  return { kind: 'tool', tool: primary, subcommand: null, known: false, via: null };
}

function seeThroughShell(rules: ToolRules, args: string[], depth: number): ToolMatch | null {
  // bash [-euo pipefail] -c 'script' | bash [-ue] script.sh args
  const run = shellInvocation(args);
  if (!run) return null;
  if ('script' in run) return firstProgram(rules, run.script, depth);
  // A script file: a tool when a rule names it (bioconda's `picard` shell wrapper).
  const rule = lookup(rules.byScript, basename(run.file));
  return rule ? toolOf(rules, rule, run.args, null) : null;
}

/** The first program a script runs, preferring real work over housekeeping (mkdir, cd). */
export function firstProgram(rules: ToolRules, script: string, depth = 0): ToolMatch | null {
  let fallback: ToolMatch | null = null;
  for (const words of programCommands(script)) {
    const m = detectTool(rules, words[0]!, words, depth + 1);
    if (m === null) continue;
    if (m.kind === 'tool' || (m.kind === 'wrapper' && m.inner)) return m;
    fallback ??= m;
  }
  return fallback;
}

function seeThroughWrapper(rules: ToolRules, w: WrapperRule, args: string[], depth: number): ToolMatch {
  let rest = args;
  if (w.subcommands) {
    const i = skipOptions(rest, new Set(w.optionsWithValue ?? []));
    if (!w.subcommands.includes(rest[i] ?? '')) return { kind: 'wrapper', wrapper: w.name, inner: null };
    rest = rest.slice(i + 1);
  }
  const withValue = new Set(w.optionsWithValue ?? []);
  let i = 0;
  for (;;) {
    i = skipOptions(rest, withValue, i);
    if (w.assignments && i < rest.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[i]!)) {
      i++;
      continue;
    }
    break;
  }
  i += w.positionals ?? 0;
  const inner = rest.slice(i);
  if (inner.length === 0) return { kind: 'wrapper', wrapper: w.name, inner: null };
  const m = detectTool(rules, inner[0]!, inner, depth + 1);
  if (w.remote && m?.kind === 'tool') return { ...m, via: w.name };
  return { kind: 'wrapper', wrapper: w.name, inner: m };
}

function detectJava(rules: ToolRules, args: string[]): ToolMatch {
  const withValue = new Set(rules.file.java.optionsWithValue);
  let i = 0;
  while (i < args.length) {
    const a = args[i]!;
    if (a === '-jar') {
      const jar = args[i + 1];
      if (jar === undefined) break;
      const rule = lookup(rules.byJar, basename(jar));
      if (rule) return toolOf(rules, rule, args.slice(i + 2), 'java');
      return { kind: 'tool', tool: basename(jar).replace(/\.jar$/, ''), subcommand: null, known: false, via: 'java' };
    }
    if (!a.startsWith('-')) {
      const rule = rules.byClass.get(a);
      if (rule) return toolOf(rules, rule, args.slice(i + 1), 'java');
      const short = a.split('.').pop() ?? a;
      return { kind: 'tool', tool: short, subcommand: null, known: false, via: 'java' };
    }
    i += withValue.has(a) ? 2 : 1;
  }
  if (args.length > 0 && args.every((a) => rules.ignoreArgs.has(a) || a === '-version' || a === '-showversion')) {
    return { kind: 'ignored', tool: 'java' };
  }
  return { kind: 'tool', tool: 'java', subcommand: null, known: false, via: null };
}

// Snakemake and Nextflow copy `script:` files into temp names (tmpab12cd.count.py): name the script.
const TEMP_SCRIPT = /^tmp[a-z0-9_]{6,}\./;

function detectInterpreted(rules: ToolRules, interp: InterpreterRule, args: string[], depth: number): ToolMatch {
  const withValue = new Set(interp.optionsWithValue ?? []);
  const code = new Set(interp.codeOptions ?? []);
  let i = 0;
  while (i < args.length) {
    const a = args[i]!;
    if (interp.moduleOption && a === interp.moduleOption) {
      const mod = args[i + 1];
      if (mod === undefined) break;
      const rule = rules.byModule.get(mod) ?? rules.byModule.get(mod.split('.')[0]!);
      if (rule) return toolOf(rules, rule, args.slice(i + 2), interp.name);
      return { kind: 'tool', tool: mod, subcommand: null, known: false, via: interp.name };
    }
    if (code.has(a)) return { kind: 'tool', tool: interp.name, subcommand: null, known: false, via: null };
    if (a === '--' || !a.startsWith('-')) {
      const script = a === '--' ? args[i + 1] : a;
      if (script === undefined) break;
      const name = basename(script).replace(TEMP_SCRIPT, '');
      const rule = lookup(rules.byScript, name) ?? lookup(rules.byScript, name.replace(/\.(py|R|r|pl|rb|js)$/, ''));
      const rest = args.slice(i + (a === '--' ? 2 : 1));
      if (rule) return toolOf(rules, rule, rest, interp.name);
      // `R CMD BATCH x.R` and friends: look one word further.
      if (script === 'CMD' && args[i + 1]) return detectInterpreted(rules, interp, args.slice(i + 2), depth);
      return { kind: 'tool', tool: name, subcommand: null, known: false, via: interp.name };
    }
    i += withValue.has(a) ? 2 : 1;
  }
  if (args.length > 0 && args.every((a) => rules.ignoreArgs.has(a))) return { kind: 'ignored', tool: interp.name };
  return { kind: 'tool', tool: interp.name, subcommand: null, known: false, via: null };
}

/** `bwa mem`, `STAR alignReads`, `count.py`: how a tree prints a match. */
export function toolDisplayName(m: ToolMatch): string {
  switch (m.kind) {
    case 'tool':
      return m.subcommand ? `${m.tool} ${m.subcommand}` : m.tool;
    case 'wrapper':
      return m.inner ? toolDisplayName(m.inner) : m.wrapper;
    case 'ignored':
      return m.tool;
    case 'plumbing':
      return m.name;
  }
}

/** The tool a match stands for once shells and wrappers are seen through, if any. */
export function innerTool(m: ToolMatch | null): Extract<ToolMatch, { kind: 'tool' }> | null {
  let cur = m;
  while (cur && cur.kind === 'wrapper') cur = cur.inner;
  return cur && cur.kind === 'tool' ? cur : null;
}
