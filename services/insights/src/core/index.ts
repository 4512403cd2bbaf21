// The insights core: pure functions over typed events. `tracer run` and services/insights
// compose the same functions.
export { analyzeTrace, analyzeTraceState, explainInsight, type AnalyzeOptions } from './analyze-trace.ts';
export { allInsights, createInsightsState, type EngineInput, stepInsights } from './engine.ts';
export { defaultSettings, resolveSettings, type DetectorSettings, type InsightsConfig, type SettingsOverride } from './config.ts';
export { classifyEvidence, collectVotes, describeCategory, evidenceHash, explainDeterministic, formatBytes, formatDuration, type Classification, type ClassifierVote, type RootCause } from './classify.ts';
export { buildEvidencePacket, type EvidenceLine, type EvidencePacket } from './evidence.ts';
export { describeExit, signalName } from './exit-codes.ts';
export {
  analyzeLog,
  classifyLogLine,
  collectTraceLogs,
  createLogCursor,
  dedupeFindings,
  feedLogChunk,
  filterLogLines,
  logKey,
  matchLogLine,
  type LogFilter,
  type LogFinding,
  type LogLine,
  type MarkedLine,
} from './log-analysis.ts';
export { logPatterns, type LogLevel, type LogPattern } from './log-patterns.ts';
export { nextStepsFor } from './next-steps.ts';
export { toolKey } from './processes.ts';
export { buildPrompt, PROMPT_VERSION, redactText, rootCauseJsonSchema, type LlmAnswer } from './prompt.ts';
export { renderHtml, renderMarkdown, renderReport, type ReportInput } from './report.ts';
export { isFailureInsight, prepareReports, type PreparedReport, type ReportSelection } from './report-input.ts';
export type { EngineState, Insight, InsightsOptions, ProcessIdentity, TaskRef } from './types.ts';
