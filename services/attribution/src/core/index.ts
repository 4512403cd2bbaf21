// The attribution core: events in, runs/steps/tasks/tool executions out. Shared by
// services/attribution (Kafka in, PostgreSQL and tasks.v1 out) and `tracer run` / `tracer trace tree`.

export type { AttributionOptions, AttributionResult } from './attributor.ts';
export {
  attribute,
  createAttribution,
  engineDetectors,
  runRecord,
  statusFromExit,
  stepRecord,
  taskRecord,
  toolRecord,
} from './attributor.ts';
export type { AttributionOps, EngineDetector, ExecContext, RunMatch, TaskMatch } from './detector.ts';
export { newPeakTracker, type PeakTracker, peakExit, peakRemove, peakSet } from './resources.ts';
export {
  type AttributionSnapshot,
  DEFAULT_GRACE_NS,
  type ForgetResult,
  forgetFinished,
  restoreAttribution,
  snapshotOf,
} from './retention.ts';
export type { ToolMatch, ToolRule, ToolRules, ToolRulesFile } from './tool-rules.ts';
export {
  compileToolRules,
  detectTool,
  firstProgram,
  innerTool,
  ToolRulesError,
  toolDisplayName,
} from './tool-rules.ts';
export type { TraceTree, TreeRun, TreeStep, TreeTask, TreeTool } from './tree.ts';
export { buildTree, renderTree } from './tree.ts';
export type { AttributionInput, AttributionState, FileFact, FileWant } from './types.ts';
