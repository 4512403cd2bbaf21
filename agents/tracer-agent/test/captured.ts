// What kernel tests ask of the records a BPF source delivered: by type and pid, or waited for
// while the kernel is drained. Shared by bpf-source.test.ts and kernel-evidence.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SourceRecord } from '../src/core/source.ts';

export type Of<K extends SourceRecord['type']> = Extract<SourceRecord, { type: K }>;

export function captured(records: SourceRecord[], drain: () => void) {
  /** Waits until `find` returns something over the records seen so far (draining the kernel meanwhile). */
  async function until<T>(what: string, find: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      drain();
      const v = find();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }
  const of = <K extends SourceRecord['type']>(type: K, pid?: number) =>
    records.filter((r): r is Of<K> => r.type === type && (pid === undefined || ('pid' in r && r.pid === pid)));
  const exitOf = (pid: number) => until(`exit of ${pid}`, () => of('process.exit', pid)[0]);
  return { until, of, exitOf };
}
