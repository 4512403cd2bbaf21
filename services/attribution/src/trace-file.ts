// Attribution of a recorded trace (`tracer trace tree FILE`): feeds the events through the core
// in batches, answering the core's file wants from the local disk (the trace is usually read
// on the host that ran it, where work dirs and Snakefiles still are).
import { type TelemetryEvent, validateEvent } from '@tracer/events';
import type { ToolRules } from './core/index.ts';
import { type AttributionState, attribute, buildTree, createAttribution, type TraceTree } from './core/index.ts';
import { readFileFact } from './file-facts.ts';
import { defaultToolRules } from './tool-rules-file.ts';

export interface AttributeTraceOptions {
  rules?: ToolRules;
  /** Read the files the detectors ask for (default true). */
  readFiles?: boolean;
  batchSize?: number;
}

export interface AttributedTrace {
  state: AttributionState;
  tree: TraceTree;
  /** Lines that were not valid events, with the reason. */
  rejected: Array<{ line: number; reason: string }>;
}

/** Attributes a whole trace given as parsed JSON values (one per line, in file order). */
export async function attributeTrace(
  values: AsyncIterable<unknown> | Iterable<unknown>,
  options: AttributeTraceOptions = {},
): Promise<AttributedTrace> {
  const state = createAttribution({ rules: options.rules ?? defaultToolRules() });
  const readFiles = options.readFiles ?? true;
  const batchSize = options.batchSize ?? 512;
  const rejected: AttributedTrace['rejected'] = [];
  let batch: TelemetryEvent[] = [];
  let line = 0;
  const flush = () => {
    let { wants } = attribute(state, batch);
    batch = [];
    // Facts can raise new wants (a task renamed wants nothing new today, but stay general).
    for (let round = 0; readFiles && wants.length > 0 && round < 4; round++) {
      wants = attribute(state, wants.map(readFileFact)).wants;
    }
  };
  for await (const value of values as AsyncIterable<unknown>) {
    line++;
    const v = validateEvent(value);
    if (!v.ok) {
      rejected.push({ line, reason: v.reason });
      continue;
    }
    batch.push(v.event);
    if (batch.length >= batchSize) flush();
  }
  flush();
  return { state, tree: buildTree(state), rejected };
}
