// Retries: the same task run again after a failed attempt. "Same task" is attribution's task
// key when there is one (Nextflow and Snakemake retries get a new work directory), else the
// same program, arguments and working directory. When a later attempt succeeds, the earlier
// attempts' failures are marked resolved.
import { createHash } from 'node:crypto';
import { failed } from '../processes.ts';
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { who } from './format.ts';
import { failureId } from './oom-kill.ts';

export function retryKeyOf(p: ProcessRecord): string {
  // A task's key names its attempts' roots only. A command inside a task repeats within that
  // attempt (a download loop), not across attempts: those are the task's retry.
  if (p.task?.isTaskRoot && p.task.taskKey) return p.task.taskKey;
  const command = `${p.exe}\0${p.argv.join('\0')}\0${p.cwd}`;
  if (p.task?.taskId) return `${p.task.taskId}\0${command}`;
  // No task known (yet: attribution can name it a moment later): an attempt is the same
  // command run again by the same parent (a retry loop, a driver re-spawning it). The same
  // `samtools view -b -` in two jobs' shells is two jobs, not a retry.
  return `${p.parentKey ?? ''}\0${command}`;
}

function retryId(key: string): string {
  return `retry#${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** The retryKey of a process that launched a task's root: never an attempt of its own. */
const LAUNCHER = '\0launcher';

export function onAttemptStart(ctx: DetectorContext, p: ProcessRecord): void {
  if (!p.settings.retry.enabled || p.argv.length === 0 || p.retryKey === LAUNCHER) return;
  const key = retryKeyOf(p);
  if (p.retryKey === key) return;
  if (p.task?.isTaskRoot && p.task.taskKey) dropLauncher(ctx, p);
  if (p.retryKey) {
    const old = ctx.state.attempts.get(p.retryKey);
    if (old)
      ctx.state.attempts.set(
        p.retryKey,
        old.filter((k) => k !== p.key),
      );
  }
  p.retryKey = key;
  const attempts = ctx.state.attempts.get(key) ?? [];
  attempts.push(p.key);
  ctx.state.attempts.set(key, attempts);
  p.attempt = attempts.length;
  updateRetry(ctx, key);
}

/**
 * The process that started a task's root (toil's `sh -c "_toil_worker ..."`, one per attempt)
 * is that attempt's launcher: the task key already counts the attempt, so the launcher's own
 * command line must not count it again. Run roots stay attempts (a pipeline run again).
 */
function dropLauncher(ctx: DetectorContext, root: ProcessRecord): void {
  const parent = root.parentKey ? ctx.state.processes.get(root.parentKey) : undefined;
  if (!parent?.retryKey || parent.retryKey === LAUNCHER || parent.task?.isTaskRoot || parent.task?.isRunRoot) return;
  const key = parent.retryKey;
  const rest = (ctx.state.attempts.get(key) ?? []).filter((k) => k !== parent.key);
  ctx.state.attempts.set(key, rest);
  parent.retryKey = LAUNCHER;
  parent.attempt = undefined;
  // Said before the task was known (the service: tasks.v1 behind the telemetry): taken back.
  const said = ctx.get(retryId(key));
  if (said?.state === 'open' && rest.length < 2) ctx.patch(retryId(key), { state: 'resolved' });
}

export function onAttemptEnd(ctx: DetectorContext, p: ProcessRecord): void {
  if (p.retryKey) updateRetry(ctx, p.retryKey);
}

function updateRetry(ctx: DetectorContext, key: string): void {
  const attempts = (ctx.state.attempts.get(key) ?? [])
    .map((k) => ctx.state.processes.get(k))
    .filter((p): p is ProcessRecord => p !== undefined)
    // Attribution may name a task after its exec: attempts count in the order they started.
    .sort((a, b) => a.startTs - b.startTs);
  if (attempts.length < 2) return;
  const earlier = attempts.slice(0, -1);
  const failedEarlier = earlier.filter(failed);
  if (failedEarlier.length === 0) return;
  const last = attempts[attempts.length - 1]!;
  const outcome = last.exit === undefined ? 'running' : failed(last) ? 'failed' : 'succeeded';
  const codes = failedEarlier.map((p) => (p.exit!.signal ? `signal ${p.exit!.signal}` : `exit ${p.exit!.code}`));
  const first = attempts[0]!;
  ctx.upsert(retryId(key), last, {
    kind: 'retry',
    severity: outcome === 'failed' ? 'error' : 'warning',
    startTs: last.startTs,
    ...(last.endTs !== undefined ? { endTs: last.endTs } : {}),
    summary: `${who(last)} is attempt ${attempts.length} of the same task after ${failedEarlier.length} failed attempt(s) (${codes.join(', ')}); this attempt ${outcome === 'running' ? 'is running' : outcome}.`,
    evidence: {
      attempts: attempts.length,
      failedAttempts: failedEarlier.length,
      outcome,
      firstAttemptPid: first.pid,
      firstAttemptStartTs: first.startTs,
      retriedTimeNs: earlier.reduce((acc, p) => acc + ((p.endTs ?? p.startTs) - p.startTs), 0),
    },
  });
  if (outcome === 'succeeded') {
    // The failure insight sits on the attempt's culprit, which may be a process inside it.
    const failedKeys = new Set(failedEarlier.map((p) => p.key));
    for (const [culpritKey, reportedKey] of ctx.state.failureOf) {
      const culprit = ctx.state.processes.get(culpritKey);
      if (!culprit || !(failedKeys.has(reportedKey) || withinAny(ctx, culprit, failedKeys))) continue;
      const f = ctx.get(failureId(culprit));
      if (f && f.state === 'open')
        ctx.patch(f.id, { state: 'resolved', evidence: { ...f.evidence, resolvedByAttempt: attempts.length } });
    }
  }
}

function withinAny(ctx: DetectorContext, p: ProcessRecord, keys: Set<string>): boolean {
  for (let q: ProcessRecord | undefined = p, depth = 0; q && depth < 64; depth++) {
    if (keys.has(q.key)) return true;
    q = q.parentKey ? ctx.state.processes.get(q.parentKey) : undefined;
  }
  return false;
}
