// Disk full: ENOSPC/EDQUOT from the kernel (a failed write or open) or in the output. Opens
// as soon as it is seen, while the process still runs; if the process then fails, the same
// insight gains the exit status and the root cause.
import type { DetectorContext, ProcessRecord } from '../types.ts';
import { who } from './format.ts';
import { failureId } from './oom-kill.ts';

export function diskFullEvidence(p: ProcessRecord): {
  what: string;
  evidence: Record<string, string | number>;
  lines: number[];
} {
  const sys = p.syscallErrors.find((e) => e.errno === 'ENOSPC' || e.errno === 'EDQUOT');
  const open = p.failedOpens.find((o) => o.error === 'ENOSPC' || o.error === 'EDQUOT');
  const lines = (p.streams.stderr?.findings ?? [])
    .concat(p.streams.stdout?.findings ?? [])
    .filter((f) => f.category === 'disk_full');
  const what = sys
    ? `failed call ${sys.syscall} ${sys.errno}${sys.path ? ` ${sys.path}` : ''}${sys.count > 1 ? ` (x${sys.count})` : ''}${sys.mount ? `: filesystem ${sys.mount} is ${sys.errno === 'EDQUOT' ? 'over quota' : 'full'}` : ''}`
    : open
      ? `open of ${open.path} failed with ${open.error}`
      : `"${lines[0]?.text.slice(0, 160) ?? 'No space left on device'}"`;
  return {
    what,
    evidence: {
      ...(sys
        ? {
            syscall: sys.syscall,
            errno: sys.errno,
            failedCalls: sys.count,
            ...(sys.path ? { path: sys.path } : {}),
            ...(sys.mount ? { mount: sys.mount } : {}),
          }
        : {}),
      ...(open && !sys ? { errno: open.error, path: open.path } : {}),
      writeBytes: p.writeBytes,
    },
    lines: lines.map((l) => l.line),
  };
}

export function onDiskFullSeen(ctx: DetectorContext, p: ProcessRecord, ts: number): void {
  if (!p.settings.diskFull.enabled) return;
  const id = failureId(p);
  const existing = ctx.get(id);
  if (existing && existing.kind !== 'disk_full') return;
  const d = diskFullEvidence(p);
  ctx.upsert(id, p, {
    kind: 'disk_full',
    severity: existing?.severity ?? 'error',
    startTs: existing?.startTs ?? ts,
    summary: `${who(p)} ran out of disk space: ${d.what}.`,
    evidence: d.evidence,
    category: 'disk_full',
    confidence: 0.95,
    errorEntries: (p.streams.stderr?.findings ?? [])
      .concat(p.streams.stdout?.findings ?? [])
      .filter((f) => f.category === 'disk_full')
      .slice(0, 20)
      .map((f) => ({ stream: f.stream, line: f.line, text: f.text, level: f.level, count: f.count })),
  });
  ctx.state.failureOf.set(p.key, ctx.state.failureOf.get(p.key) ?? p.key);
}
