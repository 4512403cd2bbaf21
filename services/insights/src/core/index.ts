// The insights core: pure functions over typed events. `tracer run` and services/insights
// compose the same functions.
export { type AnalyzeOptions, analyzeTrace, analyzeTraceState, explainInsight } from './analyze-trace.ts';
export {
  type AttributionIndex,
  attachTaskRefs,
  createAttributionIndex,
  indexAttributionChanges,
  taskRefsByUpid,
} from './attribution-link.ts';
export {
  type Classification,
  type ClassifierVote,
  classifyEvidence,
  collectVotes,
  describeCategory,
  evidenceHash,
  explainDeterministic,
  formatBytes,
  formatDuration,
  type RootCause,
} from './classify.ts';
export {
  type DetectorSettings,
  defaultSettings,
  type InsightsConfig,
  resolveSettings,
  type SettingsOverride,
} from './config.ts';
export { collectStepDurations, historyKey, slowBaseline, stepKeyOf } from './detectors/slow-step.ts';
export { allInsights, createInsightsState, type EngineInput, stepInsights } from './engine.ts';
export { buildEvidencePacket, type EvidenceLine, type EvidencePacket } from './evidence.ts';
export { describeExit, signalName } from './exit-codes.ts';
export {
  createHostStream,
  freshEvents,
  type HostInput,
  type HostStepResult,
  type HostStreamState,
  type PositionedChange,
  stepHost,
  tickHost,
} from './host-stream.ts';
export {
  analyzeLog,
  classifyLogLine,
  collectTraceLogs,
  createLogCursor,
  dedupeFindings,
  feedLogChunk,
  filterLogLines,
  type LogFilter,
  type LogFinding,
  type LogLine,
  logKey,
  type MarkedLine,
  matchLogLine,
} from './log-analysis.ts';
export { type LogLevel, type LogPattern, logPatterns } from './log-patterns.ts';
export { nextStepsFor } from './next-steps.ts';
export { toolKey } from './processes.ts';
export { buildPrompt, type LlmAnswer, PROMPT_VERSION, redactText, rootCauseJsonSchema } from './prompt.ts';
export { type ReportInput, renderHtml, renderMarkdown, renderReport } from './report.ts';
export { isFailureInsight, type PreparedReport, prepareReports, type ReportSelection } from './report-input.ts';
export { renderInsightsSummary } from './summary.ts';
export type { EngineState, Insight, InsightsOptions, ProcessIdentity, TaskRef } from './types.ts';
