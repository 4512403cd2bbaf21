// Every insight the core produces must satisfy the `insight` schema the trace carries.

import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Insight } from '@tracer/events';

const check = TypeCompiler.Compile(Insight);

export function insightProblems(insights: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const i of insights) {
    if (check.Check(i)) continue;
    const first = [...check.Errors(i)].slice(0, 3).map((e) => `${e.path}: ${e.message}`);
    out.push(`${(i as { id?: string }).id}: ${first.join('; ')}`);
  }
  return out;
}
