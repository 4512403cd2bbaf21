// Time-limit kill: timeout(1) (exit 124), SIGXCPU, a scheduler's message (Slurm "DUE TO
// TIME LIMIT", PBS walltime, LSF TERM_RUNLIMIT, Nextflow), or a SIGTERM/SIGKILL at the
// step's configured limit. The classifier finds these; this words the sentence.
import { formatDuration } from '../classify.ts';
import type { ProcessRecord } from '../types.ts';
import { who } from './format.ts';

export function timeLimitSummary(p: ProcessRecord, cause: string): string {
  const dur = p.endTs !== undefined ? ` after ${formatDuration(p.endTs - p.startTs)}` : '';
  return `${who(p)} was stopped by a time limit${dur}: ${cause}`;
}
