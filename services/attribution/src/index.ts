// @tracer/attribution: the attribution service (runner and adapters, see README) and the
// adapters `tracer run` / `tracer trace tree` share. The pure core is "./core".

export { readFileFact } from './file-facts.ts';
export { DEFAULT_TOOL_RULES_PATH, defaultToolRules, loadToolRules } from './tool-rules-file.ts';
export { type AttributedTrace, type AttributeTraceOptions, attributeTrace } from './trace-file.ts';
