// What a failure report holds, gathered from a trace: the failure insight of a task, its
// evidence packet and deterministic root cause, the other insights about it, and its logs.
// The command adds the LLM step (optional) and renders.
import type { Insight } from '@tracer/events';
import { type AnalyzeOptions, analyzeTraceState } from './analyze-trace.ts';
import { explainDeterministic } from './classify.ts';
import type { EngineInput } from './engine.ts';
import { buildEvidencePacket } from './evidence.ts';
import { collectTraceLogs, type LogLine } from './log-analysis.ts';
import { findProcess } from './processes.ts';
import type { ReportInput } from './report.ts';
import type { EngineState } from './types.ts';

export type PreparedReport = Omit<ReportInput, 'generatedAt' | 'tracePath'>;

export interface ReportSelection {
  /** The process (task) to report on; default: the first failure in the trace. */
  pid?: number;
  /** Every failure in the trace. */
  all?: boolean;
}

export function isFailureInsight(i: Insight): boolean {
  return i.category !== undefined;
}

function prepareOne(
  state: EngineState,
  insights: Insight[],
  logs: Map<string, LogLine[]>,
  insight: Insight,
): PreparedReport | undefined {
  if (insight.pid === undefined) return undefined;
  const proc = findProcess(state, insight.pid, insight.upid);
  if (!proc) return undefined;
  const reportedKey = state.failureOf.get(proc.key);
  const packet = buildEvidencePacket(state, proc, reportedKey ? state.processes.get(reportedKey) : undefined);
  const rootCause = explainDeterministic(packet);
  const pids = new Set([proc.pid, ...rootCause.errorEntries.map((e) => e.pid)]);
  const toolOf = (pid: number) => (pid === proc.pid ? proc.tool : (findProcess(state, pid)?.tool ?? '?'));
  const out: PreparedReport['logs'] = [];
  for (const lines of logs.values()) {
    const first = lines[0];
    if (!first || !pids.has(first.pid)) continue;
    if (first.pid === proc.pid && proc.upid && first.upid && first.upid !== proc.upid) continue;
    out.push({ pid: first.pid, tool: toolOf(first.pid), stream: first.stream, lines });
  }
  // The failing process's stderr first, then its stdout, then the wrappers'.
  out.sort(
    (a, b) =>
      Number(b.pid === proc.pid) - Number(a.pid === proc.pid) ||
      (a.stream === 'stderr' ? -1 : 1) - (b.stream === 'stderr' ? -1 : 1),
  );
  const related = insights.filter(
    (i) =>
      i.id !== insight.id && (i.pid === proc.pid || (proc.task?.taskId !== undefined && i.taskId === proc.task.taskId)),
  );
  return { insight, rootCause, packet, related, logs: out };
}

/** Failure reports for a trace: the first failure, one process's, or all of them. */
export function prepareReports(
  events: readonly EngineInput[],
  selection: ReportSelection = {},
  options: AnalyzeOptions = {},
): { reports: PreparedReport[]; insights: Insight[] } {
  const { state, insights } = analyzeTraceState(events, options);
  const logs = collectTraceLogs(events);
  let chosen: Insight[];
  if (selection.pid !== undefined) {
    const own = insights.filter((i) => i.pid === selection.pid);
    chosen = own.filter(isFailureInsight).slice(0, 1);
    if (chosen.length === 0) chosen = own.slice(0, 1);
  } else {
    const failures = insights.filter(isFailureInsight);
    const first = failures.find((i) => i.state === 'open') ?? failures[0];
    chosen = selection.all ? failures : first ? [first] : [];
  }
  const reports = chosen
    .map((i) => prepareOne(state, insights, logs, i))
    .filter((r): r is PreparedReport => r !== undefined);
  return { reports, insights };
}
