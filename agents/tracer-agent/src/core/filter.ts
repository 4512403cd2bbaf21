// Which records belong to the trace: the whole host, or one process subtree. The BPF source
// filters in the kernel; this is for sources that cannot (the /proc fallback scanning a host)
// and for narrowing a source's subtree to one command.
import type { SourceRecord } from './source.ts';

export type RecordFilter = (record: SourceRecord) => boolean;

export const wholeHost: RecordFilter = () => true;

/**
 * Keeps `rootPid` (when `includeRoot`) and every process forked or exec'd by a kept process,
 * plus the records of kept processes. Membership is by upid, so a reused pid of a process
 * that left the subtree is not mistaken for a member, and late records after an exit still
 * pass. Fork/exec records must arrive parent first, as the sources deliver them.
 */
export function createSubtreeFilter(rootPid: number, options: { includeRoot?: boolean } = {}): RecordFilter {
  const includeRoot = options.includeRoot ?? true;
  const upids = new Set<string>();
  /** pid -> upid of kept processes still alive: how children find their parent. */
  const livePids = new Map<number, string>();
  const kept = (upid: string) => upids.has(upid);

  return (record) => {
    switch (record.type) {
      case 'process.fork':
      case 'process.exec': {
        if (kept(record.upid)) return true;
        const parentKept =
          (record.parentUpid !== undefined && kept(record.parentUpid)) ||
          livePids.has(record.ppid) ||
          (!includeRoot && record.ppid === rootPid);
        if (!parentKept && !(includeRoot && record.pid === rootPid)) return false;
        upids.add(record.upid);
        livePids.set(record.pid, record.upid);
        return true;
      }
      case 'process.exit':
        if (!kept(record.upid)) return false;
        if (livePids.get(record.pid) === record.upid) livePids.delete(record.pid);
        return true;
      case 'process.sample':
      case 'log.chunk':
      case 'file.open':
      case 'syscall.error':
        return kept(record.upid);
      case 'oom.kill':
        return record.victimUpid !== undefined ? kept(record.victimUpid) : livePids.has(record.victimPid);
      default:
        return true;
    }
  };
}
