// Insight records (issue 6): what the insights core concluded about a process, task or host.
// `tracer run` appends each one to its trace as an `insight` event; services/insights
// publishes the same shape on insights.v1. The contract names (kind, pid, category,
// errorLines, summary) stay; more fields may be added.
//
// This file imports no value from schemas.ts: schemas.ts builds the `insight` event from
// `Insight.properties` with its envelope helper, and a cycle between the two would leave
// one of them reading the other's constants before they exist.
import { type Static, Type } from '@sinclair/typebox';

export const insightKinds = [
  'oom_kill',
  'no_progress',
  'io_wait',
  'network_wait',
  'slow_step',
  'disk_full',
  'nonzero_exit',
  'signal',
  'time_limit',
  'retry',
  'memory_pressure',
  'cpu_oversubscription',
  'idle_host',
] as const;
export const InsightKind = Type.Union(insightKinds.map((k) => Type.Literal(k)));
export type InsightKind = (typeof insightKinds)[number];

/** Root-cause categories of the classifier (DESIGN.md section 8). */
export const rootCauseCategories = [
  'oom',
  'java_heap',
  'disk_full',
  'time_limit',
  'missing_input',
  'corrupt_input',
  'missing_dependency',
  'permission',
  'network',
  'segfault',
  'config_error',
  'unknown',
] as const;
export const RootCauseCategory = Type.Union(rootCauseCategories.map((c) => Type.Literal(c)));
export type RootCauseCategory = (typeof rootCauseCategories)[number];

export const InsightSeverity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')]);
export type InsightSeverity = Static<typeof InsightSeverity>;

export const InsightState = Type.Union([Type.Literal('open'), Type.Literal('resolved')]);
export type InsightState = Static<typeof InsightState>;

/** One log line an insight points at: numbered per process and stream, from 1, as captured. */
export const ErrorEntry = Type.Object({
  stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]),
  line: Type.Integer({ minimum: 1 }),
  text: Type.String({ maxLength: 2048 }),
  level: Type.Optional(Type.Union([Type.Literal('error'), Type.Literal('warning')])),
  /** The process whose output holds the line, when it is not the insight's own (a wrapper's message). */
  pid: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Identical lines (numbers aside) folded into this one. */
  count: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type ErrorEntry = Static<typeof ErrorEntry>;

/** An insight's own fields; the `insight` event is these plus the envelope and `type`. */
export const Insight = Type.Object({
  /** Stable across updates: one problem is one id, re-sent as it evolves. */
  id: Type.String({ minLength: 1, maxLength: 256 }),
  kind: InsightKind,
  severity: InsightSeverity,
  state: InsightState,
  /** The process it concerns; absent only for host-wide insights (idle_host, host pressure). */
  pid: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Same format as `Upid` in schemas.ts. */
  upid: Type.Optional(Type.String({ pattern: '^[0-9a-f]{8}-[0-9]+-[0-9]+$', maxLength: 64 })),
  runId: Type.Optional(Type.String()),
  stepId: Type.Optional(Type.String()),
  taskId: Type.Optional(Type.String()),
  tool: Type.Optional(Type.String()),
  /** When the problem started and (once resolved or the process ended) stopped, ns since the epoch. */
  startTs: Type.Integer({ minimum: 0 }),
  endTs: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Root-cause category where one applies (failures). */
  category: Type.Optional(RootCauseCategory),
  confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /** Line numbers in the process's captured output (see errorEntries for the stream). */
  errorLines: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 200 }),
  errorEntries: Type.Optional(Type.Array(ErrorEntry, { maxItems: 200 })),
  /** One short human sentence. */
  summary: Type.String({ maxLength: 1024 }),
  /** The measured numbers behind the insight (bytes, ns, ratios, counts, names). */
  evidence: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()])),
  nextSteps: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 20 })),
  /** Set when an LLM wrote the explanation: which model and prompt version. */
  model: Type.Optional(Type.String()),
  promptVersion: Type.Optional(Type.String()),
});
export type Insight = Static<typeof Insight>;

/** One message of insights.v1 (keyed tenant/host): an insight and the tenant and host it belongs to. */
export const InsightMessage = Type.Composite(
  [
    Type.Object({
      tenant: Type.String({ minLength: 1, maxLength: 128 }),
      host: Type.String({ minLength: 1, maxLength: 255 }),
    }),
    Insight,
  ],
  { $id: 'insights.v1' },
);
export type InsightMessage = Static<typeof InsightMessage>;
