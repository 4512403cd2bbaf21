// The deterministic root-cause classifier. Every piece of evidence votes for a category with
// a weight (the OOM killer's record is near certain, a generic "No such file" line less so);
// votes for one category combine like independent clues (1 - product of (1 - w)). The top
// category wins if it is confident enough, else the answer is `unknown`.
import { createHash } from 'node:crypto';
import type { RootCauseCategory } from '@tracer/events';
import { type EvidenceLine, type EvidencePacket, isExecCall, isForkCall, openIntent } from './evidence.ts';
import { SIGKILL, SIGTERM, SIGXCPU, signalFromExitCode, signalName } from './exit-codes.ts';
import { nextStepsFor } from './next-steps.ts';

export interface ClassifierVote {
  category: RootCauseCategory;
  weight: number;
  /** What was seen, in words. */
  evidence: string;
  source: 'oom' | 'exit' | 'signal' | 'log' | 'syscall' | 'host' | 'limit';
  line?: { pid: number; stream: 'stdout' | 'stderr'; line: number; text: string };
}

export interface Classification {
  category: RootCauseCategory;
  confidence: number;
  /** The votes for the chosen category, heaviest first. */
  votes: ClassifierVote[];
  alternatives: Array<{ category: RootCauseCategory; confidence: number; votes: ClassifierVote[] }>;
}

export interface RootCause {
  category: RootCauseCategory;
  confidence: number;
  /** One sentence: what went wrong. */
  criticalIssue: string;
  /** Ranked, each with the evidence it rests on. */
  causes: Array<{ cause: string; category?: RootCauseCategory; confidence: number; evidence: string[] }>;
  nextSteps: string[];
  errorEntries: Array<{ pid: number; stream: 'stdout' | 'stderr'; line: number; text: string }>;
  source: 'classifier' | 'llm';
  model?: string;
  promptVersion?: string;
  evidenceHash: string;
}

const MIN_CONFIDENCE = 0.35;

/** Order used to break ties: the more specific and more actionable cause first. */
const tieOrder: RootCauseCategory[] = [
  'oom',
  'java_heap',
  'disk_full',
  'time_limit',
  'permission',
  'network',
  'missing_dependency',
  'missing_input',
  'corrupt_input',
  'config_error',
  'segfault',
  'unknown',
];

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
export function formatBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(0)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${n} B`;
}
export function formatDuration(ns: number): string {
  const s = ns / 1e9;
  if (s < 1) return `${Math.round(ns / 1e6)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function collectVotes(p: EvidencePacket): ClassifierVote[] {
  const votes: ClassifierVote[] = [];
  const add = (
    category: RootCauseCategory,
    weight: number,
    evidence: string,
    source: ClassifierVote['source'],
    line?: EvidenceLine,
  ) =>
    votes.push({
      category,
      weight,
      evidence,
      source,
      ...(line ? { line: { pid: line.pid, stream: line.stream, line: line.line, text: line.text } } : {}),
    });

  if (p.oom) {
    const lim = p.oom.memoryLimitBytes !== undefined ? `, limit ${formatBytes(p.oom.memoryLimitBytes)}` : '';
    add('oom', 0.97, `the kernel OOM killer chose this process (${p.oom.constraint}${lim})`, 'oom');
  }

  const exit = p.exit;
  const sig = exit?.signal ?? (exit ? signalFromExitCode(exit.code) : undefined);
  const viaCode = exit && !exit.signal && sig !== undefined;
  const status = exit ? (exit.signal ? signalName(exit.signal) : `exit ${exit.code}`) : '';
  if (exit && !p.oom) {
    if (sig === 11)
      add('segfault', 0.9, `${status}: segmentation fault${exit.coreDumped ? ', core dumped' : ''}`, 'signal');
    else if (sig === 7) add('segfault', 0.7, `${status}: bus error`, 'signal');
    else if (sig === 8) add('segfault', 0.7, `${status}: arithmetic exception`, 'signal');
    else if (sig === 4) add('segfault', 0.6, `${status}: illegal instruction`, 'signal');
    else if (sig === 6) add('segfault', 0.45, `${status}: aborted`, 'signal');
    else if (sig === SIGXCPU) add('time_limit', 0.85, `${status}: CPU time limit`, 'signal');
    else if (sig === 12 && viaCode)
      add('time_limit', 0.55, 'exit 140: how SGE/LSF report a run-time limit kill', 'exit');
    else if (sig === SIGKILL || sig === SIGTERM) {
      const dur = p.process.durationNs;
      if (p.killedByTimeout) add('time_limit', 0.9, `${status} from timeout(1) (it exited 124)`, 'limit');
      else if (p.timeLimitNs && dur !== undefined && dur >= 0.95 * p.timeLimitNs) {
        add(
          'time_limit',
          0.85,
          `${status} after ${formatDuration(dur)}, at the step's limit of ${formatDuration(p.timeLimitNs)}`,
          'limit',
        );
      } else if (sig === SIGTERM)
        add('time_limit', 0.3, `${status}: schedulers send SIGTERM at a time limit or cancel`, 'signal');
      if (sig === SIGKILL) {
        const mem = p.host?.memoryBytes;
        if (mem && p.resources.peakRssBytes >= 0.85 * mem)
          add(
            'oom',
            0.6,
            `${status} with a peak RSS of ${formatBytes(p.resources.peakRssBytes)} on a ${formatBytes(mem)} host`,
            'host',
          );
        if ((p.host?.maxMemorySome10 ?? 0) >= 30)
          add('oom', 0.35, `${status} while host memory pressure reached ${p.host!.maxMemorySome10}%`, 'host');
      }
    }
    if (!exit.signal) {
      if (exit.code === 124 && /^timeout\b/.test(p.process.tool))
        add('time_limit', 0.85, 'exit 124: timeout(1) killed the command', 'exit');
      else if (exit.code === 127) add('missing_dependency', 0.75, 'exit 127: command not found', 'exit');
      else if (exit.code === 126) add('permission', 0.5, 'exit 126: command found but not executable', 'exit');
      else if (exit.code === 2) add('config_error', 0.25, 'exit 2: commonly a usage error', 'exit');
    }
  }

  for (const l of p.errorLines) {
    if (!l.category || l.weight === undefined) continue;
    const own = l.own ?? true;
    // A wrapper repeating the failure adds less than the failing process saying it.
    const weight = own ? l.weight : l.weight * 0.85;
    add(
      l.category,
      weight,
      `${l.stream} line ${l.line}${own ? '' : ` of pid ${l.pid}`}: ${truncate(l.text, 160)}`,
      'log',
      l,
    );
  }

  const calls: Array<{
    pid: number;
    syscall: string;
    errno: string;
    count: number;
    path?: string;
    addr?: string;
    mount?: string;
    flags?: number;
  }> = [
    ...p.syscallErrors,
    ...p.failedOpens.map((o) => ({
      pid: o.pid,
      syscall: 'openat',
      errno: o.error,
      count: o.count,
      path: o.path,
      ...(o.flags !== undefined ? { flags: o.flags } : {}),
    })),
  ];
  const own = (e: { pid: number }) => e.pid === p.process.pid;
  for (const [i, e] of calls.entries()) {
    const what = `${e.syscall} ${e.errno}${e.path ? ` ${e.path}` : ''}${e.addr ? ` ${e.addr}` : ''}${e.count > 1 ? ` (x${e.count})` : ''}`;
    const on = e.mount ? ` on ${e.mount}` : '';
    // The failing process's newest failure (the packet lists them newest first) weighs most.
    const lead = i === 0 || own(e) ? 0 : -0.05;
    switch (e.errno) {
      case 'ENOSPC':
      case 'EDQUOT':
        add(
          'disk_full',
          0.95,
          `failed call ${what}: ${e.errno === 'EDQUOT' ? 'disk quota exceeded' : 'no space left'}${on || (e.path ? ` writing ${e.path}` : '')}`,
          'syscall',
        );
        break;
      case 'EROFS':
        add('permission', 0.8 + lead, `failed call ${what}: read-only filesystem${on}`, 'syscall');
        break;
      case 'EACCES':
      case 'EPERM':
        add('permission', 0.75 + lead, `failed call ${what}`, 'syscall');
        break;
      case 'ENOENT':
      case 'ENOTDIR': {
        if (isExecCall(e.syscall)) {
          const prog = e.path ? e.path.split('/').pop() : undefined;
          add(
            'missing_dependency',
            0.85,
            `failed call ${what}: command not found${prog ? ` (${prog})` : ''}, exit 127`,
            'syscall',
          );
          break;
        }
        const intent = openIntent(e);
        if (intent === 'output') {
          // The input is not what is missing: the place the tool was told to write to is.
          const dir = e.path ? e.path.replace(/\/[^/]*$/, '') || '/' : undefined;
          add(
            'config_error',
            0.7 + lead,
            `failed call ${what}: output directory ${dir ?? '(unknown)'} does not exist`,
            'syscall',
          );
        } else if (intent === 'write')
          add('config_error', 0.5 + lead, `failed call ${what}: opened for writing`, 'syscall');
        else add('missing_input', (intent === 'input' ? 0.75 : 0.65) + lead, `failed call ${what}`, 'syscall');
        break;
      }
      case 'ECONNREFUSED':
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'ECONNRESET':
        add('network', 0.8, `failed call ${what}`, 'syscall');
        break;
      case 'ENOMEM': {
        const mem = /^(?:mmap|mremap|brk|clone|clone3|fork|vfork)$/.test(e.syscall);
        const w = mem ? Math.min(0.85, 0.45 + 0.2 * Math.log10(1 + e.count)) : 0.3;
        add('oom', w, `failed call ${what}: out of memory`, 'syscall');
        break;
      }
      case 'EAGAIN':
        if (isForkCall(e.syscall))
          add('config_error', 0.7, `failed call ${what}: process limit reached (ulimit -u / pids.max)`, 'syscall');
        break;
      case 'EMFILE':
      case 'ENFILE':
        add(
          'config_error',
          0.7,
          `failed call ${what}: ${e.errno === 'EMFILE' ? 'open-file limit (ulimit -n)' : 'system-wide open-file limit'} reached`,
          'syscall',
        );
        break;
    }
  }
  return votes;
}

/** Classifies an evidence packet. */
export function classifyEvidence(p: EvidencePacket): Classification {
  const votes = collectVotes(p);
  const by = new Map<RootCauseCategory, ClassifierVote[]>();
  for (const v of votes) {
    const list = by.get(v.category) ?? [];
    list.push(v);
    by.set(v.category, list);
  }
  const scored = [...by.entries()].map(([category, vs]) => {
    vs.sort((a, b) => b.weight - a.weight);
    // Independent clues combine; repeats of one kind of clue (the same source) count once more at most.
    const confidence = 1 - vs.slice(0, 4).reduce((acc, v) => acc * (1 - v.weight), 1);
    return { category, confidence: Math.min(0.99, confidence), votes: vs };
  });
  scored.sort((a, b) => b.confidence - a.confidence || tieOrder.indexOf(a.category) - tieOrder.indexOf(b.category));
  const top = scored[0];
  if (!top || top.confidence < MIN_CONFIDENCE) {
    return {
      category: 'unknown',
      confidence: top ? 1 - top.confidence : 0.5,
      votes: top?.votes ?? [],
      alternatives: scored.slice(0, 3),
    };
  }
  return {
    category: top.category,
    confidence: round(top.confidence),
    votes: top.votes,
    alternatives: scored.slice(1, 4).map((s) => ({ ...s, confidence: round(s.confidence) })),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 3)}...` : s;
}

const categoryWords: Record<RootCauseCategory, string> = {
  oom: 'ran out of memory',
  java_heap: 'ran out of Java heap',
  disk_full: 'ran out of disk space',
  time_limit: 'hit a time limit',
  missing_input: 'could not find an input',
  corrupt_input: 'read a corrupt or malformed input',
  missing_dependency: 'is missing a program, library or package it needs',
  permission: 'was denied access to a file or resource',
  network: 'failed on the network',
  segfault: 'crashed',
  config_error: 'was given a wrong option, parameter or configuration',
  unknown: 'failed for a reason the evidence does not show',
};

export function describeCategory(c: RootCauseCategory): string {
  return categoryWords[c];
}

/** A stable hash of the packet: the LLM cache key. */
export function evidenceHash(p: EvidencePacket): string {
  return createHash('sha256').update(stableStringify(p)).digest('hex').slice(0, 32);
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The deterministic answer: good enough to stand alone when no LLM is configured. */
export function explainDeterministic(p: EvidencePacket, c: Classification = classifyEvidence(p)): RootCause {
  const who = `${p.process.tool} (pid ${p.process.pid})`;
  const status = p.exit ? `, ${p.exit.meaning}` : '';
  const decisive = c.votes[0];
  const criticalIssue =
    c.category === 'unknown'
      ? `${who} failed${status}; no error line or kernel record points to a cause.`
      : `${who} ${describeCategory(c.category)}${decisive ? `: ${decisive.evidence}` : ''}.`;
  const causes: RootCause['causes'] = [];
  if (c.category !== 'unknown') {
    causes.push({
      cause: describeCategory(c.category),
      category: c.category,
      confidence: c.confidence,
      evidence: c.votes.slice(0, 5).map((v) => v.evidence),
    });
  }
  for (const alt of c.alternatives) {
    if (alt.category === c.category || alt.confidence < 0.2) continue;
    causes.push({
      cause: describeCategory(alt.category),
      category: alt.category,
      confidence: alt.confidence,
      evidence: alt.votes.slice(0, 3).map((v) => v.evidence),
    });
  }
  const seen = new Set<string>();
  const entries: RootCause['errorEntries'] = [];
  const pushLine = (l: { pid: number; stream: 'stdout' | 'stderr'; line: number; text: string }) => {
    const key = `${l.pid}:${l.stream}:${l.line}`;
    if (seen.has(key)) return;
    seen.add(key);
    entries.push({ pid: l.pid, stream: l.stream, line: l.line, text: l.text });
  };
  for (const v of c.votes) if (v.line) pushLine(v.line);
  for (const l of p.errorLines) if (l.level === 'error') pushLine(l);
  return {
    category: c.category,
    confidence: c.confidence,
    criticalIssue,
    causes,
    nextSteps: nextStepsFor(c.category, p),
    errorEntries: entries.slice(0, 20),
    source: 'classifier',
    evidenceHash: evidenceHash(p),
  };
}
