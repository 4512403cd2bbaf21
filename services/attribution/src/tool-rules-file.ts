// Reads the tool rules data file (I/O lives here, outside the core) and hands it to the core's
// validator. A bad file stops the caller at start with the rule named.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { compileToolRules, type ToolRules, ToolRulesError } from './core/tool-rules.ts';

export const DEFAULT_TOOL_RULES_PATH = fileURLToPath(new URL('../data/tool-rules.yaml', import.meta.url));

export function loadToolRules(path: string = DEFAULT_TOOL_RULES_PATH): ToolRules {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ToolRulesError(`tool rules: ${path}: ${(err as Error).message}`);
  }
  try {
    return compileToolRules(doc);
  } catch (err) {
    if (err instanceof ToolRulesError) throw new ToolRulesError(`${err.message} (in ${path})`);
    throw err;
  }
}

let cached: ToolRules | undefined;
/** The rules shipped in data/tool-rules.yaml, loaded once. */
export function defaultToolRules(): ToolRules {
  cached ??= loadToolRules();
  return cached;
}
