// OOM kills from the kernel log (/dev/kmsg) for the /proc fallback: without BPF this is the
// one place that names the victim. Records are read without blocking; the backlog present
// at open is skipped. pids here are the initial pid namespace's.
import { closeSync, constants, openSync, readSync } from 'node:fs';

export interface KmsgOom {
  victimPid: number;
  victimComm: string;
  constraint: 'memcg' | 'global' | 'cpuset' | 'mempolicy';
  victimRssBytes?: number;
  memoryLimitBytes?: number;
  memoryUsageBytes?: number;
}

const CONSTRAINTS: Record<string, KmsgOom['constraint']> = {
  CONSTRAINT_NONE: 'global',
  CONSTRAINT_MEMCG: 'memcg',
  CONSTRAINT_CPUSET: 'cpuset',
  CONSTRAINT_MEMORY_POLICY: 'mempolicy',
};

/** Folds kernel log messages into OOM kills; a kill is complete at its "Killed process" line. */
export class OomLogParser {
  private constraint = new Map<number, KmsgOom['constraint']>();
  private usage?: { usage: number; limit: number };

  push(message: string): KmsgOom | undefined {
    const usage = /^memory: usage (\d+)kB, limit (\d+)kB/.exec(message);
    if (usage) {
      this.usage = { usage: Number(usage[1]) * 1024, limit: Number(usage[2]) * 1024 };
      return undefined;
    }
    const header = /^oom-kill:constraint=(CONSTRAINT_[A-Z_]+),.*,pid=(\d+),uid=/.exec(message);
    if (header) {
      this.constraint.set(Number(header[2]), CONSTRAINTS[header[1]!] ?? 'global');
      return undefined;
    }
    const killed =
      /(Memory cgroup out of memory|Out of memory)[^:]*: Killed process (\d+) \((.*)\) total-vm:\d+kB, anon-rss:(\d+)kB, file-rss:(\d+)kB, shmem-rss:(\d+)kB/.exec(
        message,
      );
    if (!killed) return undefined;
    const pid = Number(killed[2]);
    const oom: KmsgOom = {
      victimPid: pid,
      victimComm: killed[3]!,
      constraint: this.constraint.get(pid) ?? (killed[1] === 'Memory cgroup out of memory' ? 'memcg' : 'global'),
      victimRssBytes: (Number(killed[4]) + Number(killed[5]) + Number(killed[6])) * 1024,
    };
    if (oom.constraint === 'memcg' && this.usage) {
      oom.memoryLimitBytes = this.usage.limit;
      oom.memoryUsageBytes = this.usage.usage;
    }
    this.constraint.delete(pid);
    this.usage = undefined;
    return oom;
  }
}

/** `<prio>,<seq>,<ts>,<flags>;<message>` followed by continuation lines: the message. */
export function kmsgMessage(record: string): string {
  const semi = record.indexOf(';');
  const body = semi < 0 ? record : record.slice(semi + 1);
  return body.split('\n')[0] ?? '';
}

export interface KmsgReader {
  /** New OOM kills since the last call. */
  readOoms(): KmsgOom[];
  close(): void;
}

const RECORD_BYTES = 8192;

/** Opens the kernel log, or returns the reason it cannot. */
export function openKmsg(path = '/dev/kmsg'): KmsgReader | string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): OOM kills will not be named`;
  }
  const buf = Buffer.alloc(RECORD_BYTES);
  const parser = new OomLogParser();
  /** Reads every record available now; false once the fd is unusable. */
  const drain = (onMessage: (m: string) => void): void => {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, RECORD_BYTES, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // records were overwritten before we read them
        return; // EAGAIN: nothing more now
      }
      if (n <= 0) return;
      onMessage(kmsgMessage(buf.toString('utf8', 0, n)));
    }
  };
  drain(() => {});
  let open = true;
  return {
    readOoms() {
      if (!open) return [];
      const out: KmsgOom[] = [];
      drain((m) => {
        const oom = parser.push(m);
        if (oom) out.push(oom);
      });
      return out;
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
