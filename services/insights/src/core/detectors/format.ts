// Shared wording for detectors' sentences.
import type { ProcessRecord } from '../types.ts';

export { formatBytes, formatDuration } from '../classify.ts';

export function who(p: ProcessRecord): string {
  return `${p.task?.tool ?? p.tool} (pid ${p.pid})`;
}

export function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}
