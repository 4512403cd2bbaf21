// Synthetic agent traffic for the ingest benchmark, shaped like a real agent's: per process
// an exec, periodic samples, a stderr chunk, a file open and an exit, each agent numbering
// its events 0, 1, 2... in its own sequence, cut into batches the way the agent ships them.
import { encodeBatch, type TelemetryEvent } from '@tracer/events';

/** A positive number from the environment, or `fallback` when unset. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw}: expected a positive number`);
  return n;
}

export interface AgentStream {
  host: string;
  agentId: string;
  /** Encoded batches in send order, with the last seq each carries. */
  batches: { body: Buffer; events: number; lastSeq: number }[];
  events: TelemetryEvent[];
}

const TOOLS = [
  ['/usr/bin/bwa', 'bwa', 'mem', '-t', '8', 'ref/GRCh38.fa', 'reads/sample_R1.fastq.gz', 'reads/sample_R2.fastq.gz'],
  ['/usr/bin/samtools', 'samtools', 'sort', '-@', '4', '-o', 'sorted.bam', 'aligned.bam'],
  ['/usr/bin/python3', 'python3', 'scripts/qc.py', '--in', 'sorted.bam', '--out', 'qc.json'],
  ['/usr/lib/jvm/java-17/bin/java', 'java', '-Xmx4g', '-jar', 'picard.jar', 'MarkDuplicates', 'I=sorted.bam'],
];

/**
 * `processes` processes per agent, `samples` samples each: (4 + samples) events per process.
 * Timestamps start at `baseMs` (now by default: the rows land in current partitions).
 */
export function agentStream(options: {
  tenant: string;
  host: string;
  agentId: string;
  processes: number;
  samples: number;
  batchEvents: number;
  baseMs?: number;
  bootPrefix?: string;
}): AgentStream {
  const { tenant, host, agentId } = options;
  const boot = options.bootPrefix ?? 'be7c4a11';
  const baseNs = (options.baseMs ?? Date.now()) * 1e6;
  const events: TelemetryEvent[] = [];
  let seq = 0;
  const env = { tenant, host, agentId };
  for (let i = 0; i < options.processes; i++) {
    const pid = 20_000 + i;
    const startNs = 3_600_000_000_000 + i * 1_000_000;
    const upid = `${boot}-${pid}-${startNs}`;
    const ts = baseNs + i * 1_000_000;
    const [exe, ...argv] = TOOLS[i % TOOLS.length]!;
    events.push({
      ...env,
      seq: seq++,
      ts,
      type: 'process.exec',
      pid,
      upid,
      ppid: 1000,
      parentUpid: `${boot}-1000-3500000000000`,
      uid: 1000,
      exe: exe!,
      argv: [...argv, `--task=${i}`],
      argvTruncated: false,
      cwd: `/work/a1/${(i * 2654435761) % 0xffffff}`,
      comm: argv[0]!.slice(0, 15),
      cgroupId: String(4242 + (i % 8)),
    });
    for (let s = 0; s < options.samples; s++) {
      events.push({
        ...env,
        seq: seq++,
        ts: ts + (s + 1) * 1_000_000_000,
        type: 'process.sample',
        pid,
        upid,
        cpuNs: (s + 1) * 950_000_000 + i,
        rssBytes: 104_857_600 + s * 4096 + i,
        readBytes: s * 1_048_576,
        writeBytes: s * 65_536,
        ioWaitNs: s * 2_000_000,
        state: s % 3 ? 'R' : 'D',
        threads: 8,
      });
    }
    events.push({
      ...env,
      seq: seq++,
      ts: ts + 500_000,
      type: 'log.chunk',
      pid,
      upid,
      stream: 'stderr',
      text: `[M::process] read ${100_000 + i} sequences (${10_000_000 + i * 7} bp)...\n`,
    });
    events.push({
      ...env,
      seq: seq++,
      ts: ts + 600_000,
      type: 'file.open',
      pid,
      upid,
      path: `/work/a1/data/sample_${i % 97}.fastq.gz`,
      flags: 0,
    });
    events.push({
      ...env,
      seq: seq++,
      ts: ts + (options.samples + 1) * 1_000_000_000,
      type: 'process.exit',
      pid,
      upid,
      exitCode: i % 50 === 0 ? 1 : 0,
      signal: null,
      coreDumped: false,
      durationNs: (options.samples + 1) * 1_000_000_000,
      cpuUserNs: options.samples * 900_000_000,
      cpuSysNs: options.samples * 50_000_000,
      peakRssBytes: 209_715_200 + i,
      readBytes: options.samples * 1_048_576,
      writeBytes: options.samples * 65_536,
      ioWaitNs: options.samples * 2_000_000,
    });
  }
  const batches: AgentStream['batches'] = [];
  for (let i = 0; i < events.length; i += options.batchEvents) {
    const chunk = events.slice(i, i + options.batchEvents);
    batches.push({ body: encodeBatch(chunk), events: chunk.length, lastSeq: chunk[chunk.length - 1]!.seq });
  }
  return { host, agentId, batches, events };
}
