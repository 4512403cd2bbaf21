// From a failed exit to one failure insight on the right process. A shell that runs a tool
// which fails usually fails too, with the same status: the insight goes to the deepest
// process whose status was passed on (the culprit), once, not to every shell on the way.
// A failure is reported when it reaches a process nobody traced is waiting on (the root,
// an orphan) or a task root; a parent that exits 0 handled it. Crashes and OOM kills are
// reported at once.
import type { InsightKind } from '@tracer/events';
import { SHELL_NAMES, shellInvocation, shellPipelines } from '@tracer/shell';
import { classifyEvidence, describeCategory, explainDeterministic, type RootCause } from './classify.ts';
import { diskFullEvidence } from './detectors/disk-full.ts';
import { nonzeroExitSummary } from './detectors/nonzero-exit.ts';
import { failureId, oomEvidence, oomSummary } from './detectors/oom-kill.ts';
import { signalSummary } from './detectors/signal.ts';
import { timeLimitSummary } from './detectors/time-limit.ts';
import { buildEvidencePacket } from './evidence.ts';
import { crashSignals, SIGPIPE, SIGXCPU } from './exit-codes.ts';
import { basename, failed } from './processes.ts';
import type { DetectorContext, EngineState, InsightDraft, ProcessRecord } from './types.ts';

function statusAsCode(p: ProcessRecord): number {
  if (!p.exit || p.exit.unknown) return p.oom ? 128 + 9 : -1;
  return p.exit.signal ? 128 + p.exit.signal : p.exit.code;
}

function ownErrorLines(p: ProcessRecord): number {
  return (
    (p.streams.stderr?.findings ?? []).filter((f) => f.level === 'error').length +
    (p.streams.stdout?.findings ?? []).filter((f) => f.level === 'error').length
  );
}

/** The deepest failed process whose status `p` passed on. */
export function findCulprit(state: EngineState, p: ProcessRecord): ProcessRecord {
  let cur = p;
  for (let depth = 0; depth < 64; depth++) {
    const kids = cur.children
      .map((k) => state.processes.get(k))
      .filter(
        (c): c is ProcessRecord =>
          c !== undefined &&
          // An OOM victim failed even when /proc sampling reaped it before its status was read.
          (failed(c) || c.oom !== undefined) &&
          (cur.endTs === undefined || (c.endTs ?? 0) <= cur.endTs),
      );
    if (kids.length === 0) break;
    // A reader that went away kills its writer with SIGPIPE: a consequence, not a cause.
    const real = kids.filter((c) => c.exit?.signal !== SIGPIPE && c.exit?.code !== 128 + SIGPIPE);
    const pool = real.length ? real : kids;
    const byEnd = (a: ProcessRecord, b: ProcessRecord) => (b.endTs ?? 0) - (a.endTs ?? 0);
    const passedOn = cur.exit
      ? pool.filter((c) => statusAsCode(c) === statusAsCode(cur) || (c.oom && cur.exit!.code === 137)).sort(byEnd)
      : [];
    if (passedOn[0]) {
      cur = firstFailureOfItsPipeline(state, cur, passedOn[0], pool);
      continue;
    }
    // The parent failed with a status of its own: its own error lines, if any, explain it.
    if (cur.exit && ownErrorLines(cur) > 0) break;
    cur = firstFailureOfItsPipeline(state, cur, pool.sort(byEnd)[0]!, pool);
  }
  return cur;
}

/**
 * The first member of `chosen`'s pipeline (`bwa mem x | samtools view -`) to fail, among the
 * `failed` children of `shell`: the others failed on what it left them (an empty or cut
 * stream), and pipefail passes on the rightmost status, the consequence. The members of one
 * run of a pipeline are consecutive children of its shell (it forks them all before it waits),
 * matched to the script's commands by name; one that never exec'd is a subshell (a builtin).
 * Not a pipeline, or not matched: `chosen`.
 */
function firstFailureOfItsPipeline(
  state: EngineState,
  shell: ProcessRecord,
  chosen: ProcessRecord,
  failed: readonly ProcessRecord[],
): ProcessRecord {
  const script = shellScript(shell);
  if (script === undefined) return chosen;
  const kids = shell.children.map((k) => state.processes.get(k));
  const at = kids.indexOf(chosen);
  const subshell = (p: ProcessRecord) => p.exe === shell.exe && p.argv.join('\0') === shell.argv.join('\0');
  // By name anywhere in the command's words: `time tool`, `env X=1 tool` exec the tool in place.
  const fits = (p: ProcessRecord | undefined, words: readonly string[]) =>
    p !== undefined && (subshell(p) || words.some((w) => basename(w) === basename(p.argv[0] ?? '')));
  for (const pipeline of shellPipelines(script)) {
    if (pipeline.length < 2) continue;
    for (let j = 0; j < pipeline.length; j++) {
      const first = at - j;
      if (first < 0 || !pipeline.every((words, m) => fits(kids[first + m], words))) continue;
      const members = new Set(kids.slice(first, first + pipeline.length));
      return failed.filter((c) => members.has(c)).sort((a, b) => endOf(a) - endOf(b))[0] ?? chosen;
    }
  }
  return chosen;
}

const endOf = (p: ProcessRecord) => p.endTs ?? Number.POSITIVE_INFINITY;

/** The script of `sh -c SCRIPT` (also `bash -ec`, `bash -euo pipefail -c`). */
function shellScript(p: ProcessRecord): string | undefined {
  if (!SHELL_NAMES.has(basename(p.argv[0] ?? ''))) return undefined;
  const run = shellInvocation(p.argv.slice(1));
  return run && 'script' in run ? run.script : undefined;
}

function isReportPoint(state: EngineState, p: ProcessRecord): boolean {
  if (p.task?.isTaskRoot) return true;
  const parent = p.parentKey ? state.processes.get(p.parentKey) : undefined;
  return !parent || parent.exit !== undefined;
}

/** Called at every exit. */
export function onFailureExit(ctx: DetectorContext, p: ProcessRecord): void {
  if (!failed(p)) return;
  const crash =
    (p.exit!.signal !== null && (crashSignals.has(p.exit!.signal) || p.exit!.signal === SIGXCPU)) ||
    p.oom !== undefined;
  if (crash || isReportPoint(ctx.state, p) || ctx.state.failureOf.has(p.key)) reportFailure(ctx, p);
}

/** Builds (or refreshes) the failure insight for the failure that surfaced at `reported`. */
export function reportFailure(ctx: DetectorContext, reported: ProcessRecord): RootCause | undefined {
  const { state } = ctx;
  const culprit = findCulprit(state, reported);
  const packet = buildEvidencePacket(state, culprit, reported);
  const classification = classifyEvidence(packet);
  const rc = explainDeterministic(packet, classification);
  const id = failureId(culprit);
  const existing = ctx.get(id);

  let kind: InsightKind;
  if (culprit.oom) kind = 'oom_kill';
  else if (existing?.kind === 'disk_full' || rc.category === 'disk_full') kind = 'disk_full';
  else if (rc.category === 'time_limit') kind = 'time_limit';
  else if (culprit.exit?.signal) kind = 'signal';
  else kind = 'nonzero_exit';
  const s = culprit.settings;
  const enabled = {
    oom_kill: s.oomKill,
    disk_full: s.diskFull,
    time_limit: s.timeLimit,
    signal: s.signal,
    nonzero_exit: s.nonzeroExit,
  } as Record<string, { enabled: boolean }>;
  const switchOf = enabled[kind];
  if (switchOf && !switchOf.enabled) return undefined;

  const cause =
    rc.category === 'unknown'
      ? rc.criticalIssue.replace(/^.*?failed[^;]*;\s*/, '')
      : `${describeCategory(rc.category)}${rc.causes[0]?.evidence[0] ? ` (${rc.causes[0].evidence[0]})` : ''}${decisiveCall(rc)}.`;
  let summary: string;
  let evidence: InsightDraft['evidence'] = {};
  if (kind === 'oom_kill') {
    summary = oomSummary(culprit);
    evidence = oomEvidence(culprit);
  } else if (kind === 'disk_full') {
    const d = diskFullEvidence(culprit);
    summary = `${culprit.task?.tool ?? culprit.tool} (pid ${culprit.pid}) ran out of disk space: ${d.what}${culprit.exit ? `, then exited ${culprit.exit.signal ? `by signal ${culprit.exit.signal}` : culprit.exit.code}` : ''}.`;
    evidence = d.evidence;
  } else if (kind === 'time_limit') summary = timeLimitSummary(culprit, `${rc.causes[0]?.evidence[0] ?? cause}.`);
  else if (kind === 'signal') summary = signalSummary(culprit, cause);
  else summary = nonzeroExitSummary(culprit, reported, cause);

  const e = culprit.exit;
  evidence = {
    ...evidence,
    ...(e ? { exitCode: e.code, signal: e.signal, coreDumped: e.coreDumped } : {}),
    ...(culprit.endTs !== undefined ? { durationNs: culprit.endTs - culprit.startTs } : {}),
    peakRssBytes: Math.max(culprit.peakRssBytes, culprit.oom?.victimRssBytes ?? 0),
    chain: packet.chain
      .map((c) => `${c.tool}[${c.pid}]:${c.signal ? `sig${c.signal}` : (c.exitCode ?? '?')}`)
      .join(' > '),
    evidenceHash: rc.evidenceHash,
  };
  if (reported.key !== culprit.key) evidence.reportedPid = reported.pid;

  ctx.upsert(id, culprit, {
    kind,
    severity: 'error',
    state: existing?.state === 'resolved' ? 'resolved' : 'open',
    startTs: existing?.startTs ?? culprit.endTs ?? ctx.now,
    ...(culprit.endTs !== undefined ? { endTs: culprit.endTs } : {}),
    summary,
    evidence,
    category: rc.category,
    confidence: rc.confidence,
    errorEntries: rc.errorEntries.map((l) => ({
      stream: l.stream,
      line: l.line,
      text: l.text,
      ...(l.pid !== culprit.pid ? { pid: l.pid } : {}),
    })),
    nextSteps: rc.nextSteps,
  });
  state.failureOf.set(culprit.key, reported.key);
  return rc;
}

/** Late evidence (output flushed after the exit, a kernel record) refines the insight. */
export function refreshFailures(ctx: DetectorContext): void {
  if (ctx.state.touched.size === 0) return;
  for (const [culpritKey, reportedKey] of ctx.state.failureOf) {
    const culprit = ctx.state.processes.get(culpritKey);
    const reported = ctx.state.processes.get(reportedKey);
    if (!culprit || !reported || !culprit.exit) continue;
    let hit = false;
    for (
      let p: ProcessRecord | undefined = culprit;
      p;
      p = p.parentKey ? ctx.state.processes.get(p.parentKey) : undefined
    ) {
      if (ctx.state.touched.has(p.key)) hit = true;
      if (p.key === reportedKey || hit) break;
    }
    if (!hit && !culprit.children.some((k) => ctx.state.touched.has(k))) continue;
    reportFailure(ctx, reported);
  }
}

/**
 * The decisive failed call, when the cause rests on something else (a log line): the kernel's
 * record next to the failing tool, for every category. Empty when the cause already names it.
 */
function decisiveCall(rc: RootCause): string {
  const ev = rc.causes[0]?.evidence ?? [];
  if (ev[0]?.startsWith('failed call')) return '';
  const call = ev.find((e) => e.startsWith('failed call'));
  return call ? `; ${call}` : '';
}
