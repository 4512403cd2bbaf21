// Starts the eBPF source on this process's descendants and keeps what the benchmarks count.
import { readFileSync } from 'node:fs';
import { type BpfSource, createBpfSource } from '../../agents/tracer-agent/src/adapters/bpf-source.ts';
import type { SourceRecord } from '../../agents/tracer-agent/src/core/source.ts';

export type Exec = Extract<SourceRecord, { type: 'process.exec' }>;
export type Exit = Extract<SourceRecord, { type: 'process.exit' }>;

export interface Capture {
  source: BpfSource;
  execs: Map<string, Exec>;
  exits: Map<string, Exit>;
  /** Waits until the kernel has handed over everything so far, then stops. */
  stop(): Promise<void>;
}

export async function startCapture(): Promise<Capture> {
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8');
  const source = await createBpfSource({ descendantsOf: process.pid, bootId, disabled: ['files', 'output'] });
  const execs = new Map<string, Exec>();
  const exits = new Map<string, Exit>();
  await source.start((batch) => {
    for (const r of batch) {
      if (r.type === 'process.exec') execs.set(r.upid, r);
      else if (r.type === 'process.exit') exits.set(r.upid, r);
    }
  });
  return {
    source,
    execs,
    exits,
    async stop() {
      await new Promise((r) => setTimeout(r, 200));
      await source.stop();
    },
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  return s[Math.floor(i)]! + (s[Math.ceil(i)]! - s[Math.floor(i)]!) * (i - Math.floor(i));
}

/** Per-round ratios as `median 1.012 (IQR 0.998-1.031, range 0.95-1.10)`: the IQR is the middle half. */
export function describeRatios(r: number[]): string {
  const f = (x: number) => x.toFixed(3);
  return `median ${f(median(r))} (IQR ${f(quantile(r, 0.25))}-${f(quantile(r, 0.75))}, range ${f(Math.min(...r))}-${f(Math.max(...r))})`;
}
