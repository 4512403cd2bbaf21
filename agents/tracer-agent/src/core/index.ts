// The agent core: pure functions over source records and events, no I/O. `tracer run`, the
// host agent and the services' tests compose these.
export * from './anomalies.ts';
export * from './env-allowlist.ts';
export * from './filter.ts';
export * from './grouping.ts';
export * from './prepare.ts';
export * from './process-table.ts';
export * from './redact.ts';
export type * from './source.ts';
export * from './summary.ts';
export * from './tool-label.ts';
export * from './units.ts';
export * from './upid.ts';
