// Death by signal: crashes (SIGSEGV, SIGABRT, SIGBUS, ...) are reported at once; SIGKILL
// without an OOM record is said to be just that, since a scheduler, a user or an OOM outside
// the traced cgroups could have sent it.
import { describeExit, SIGKILL } from '../exit-codes.ts';
import type { ProcessRecord } from '../types.ts';
import { formatBytes, who } from './format.ts';

export function signalSummary(p: ProcessRecord, cause: string): string {
  const e = p.exit!;
  if (e.signal === SIGKILL && !p.oom) {
    return `${who(p)} was killed by SIGKILL (exit 137) but the kernel recorded no OOM kill for it (peak RSS ${formatBytes(p.peakRssBytes)}): ${cause}`;
  }
  return `${who(p)} died of ${describeExit(e.code, e.signal)}${e.coreDumped ? ', core dumped' : ''}: ${cause}`;
}
