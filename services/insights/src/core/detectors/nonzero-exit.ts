// Non-zero exit: the failing process (the deepest one whose status its parents passed on),
// its status and what the root-cause classifier made of the evidence.
import { describeExit } from '../exit-codes.ts';
import type { ProcessRecord } from '../types.ts';
import { who } from './format.ts';

export function nonzeroExitSummary(p: ProcessRecord, reported: ProcessRecord, cause: string): string {
  const via =
    reported.key !== p.key ? ` (passed on by ${reported.tool} pid ${reported.pid}, exit ${reported.exit?.code})` : '';
  return `${who(p)} failed with ${describeExit(p.exit!.code, p.exit!.signal)}${via}: ${cause}`;
}
