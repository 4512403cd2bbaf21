// Picks and starts the telemetry source: the eBPF source when it loads, else the /proc
// fallback with the reason in words a user can act on. TRACER_AGENT_MODE=proc forces the
// fallback; TRACER_AGENT_MODE=bpf refuses it (an error instead), for CI that must test BPF.
import { createLogger } from '@tracer/log';
import type { SourceOptions, SourceRecord, TelemetrySource } from '../core/source.ts';
import { createProcSource, type ProcSourceOptions } from './proc-source.ts';

const log = createLogger('select-source');

export type AgentMode = 'auto' | 'bpf' | 'proc';

export function agentMode(env: NodeJS.ProcessEnv = process.env): AgentMode {
  const raw = env.TRACER_AGENT_MODE;
  if (raw === undefined || raw === '' || raw === 'auto') return 'auto';
  if (raw === 'bpf' || raw === 'proc') return raw;
  throw new Error(`TRACER_AGENT_MODE must be bpf, proc or auto, got ${JSON.stringify(raw)}`);
}

/** TRACER_AGENT_POLL_MS: how often the /proc fallback polls (default 20 ms). */
export function pollIntervalMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.TRACER_AGENT_POLL_MS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 60_000) {
    throw new Error(
      `TRACER_AGENT_POLL_MS must be a whole number of milliseconds (1-60000), got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

export interface SelectedSource {
  source: TelemetrySource;
  /** Set when the /proc fallback runs: why BPF is not used. */
  fallbackReason?: string;
}

type BpfModule = { createBpfSource?: (options: SourceOptions) => Promise<TelemetrySource> };

// A variable specifier: the BPF adapter is built by another part of the tree and may be absent.
const BPF_SOURCE_MODULE = './bpf-source.ts';

/** Creates the BPF source, or throws an Error whose message says why BPF cannot be used. */
export async function createBpfSourceIfAvailable(options: SourceOptions): Promise<TelemetrySource> {
  let mod: BpfModule;
  try {
    mod = (await import(new URL(BPF_SOURCE_MODULE, import.meta.url).href)) as BpfModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes('bpf-source.ts')) {
      throw new Error('this build has no BPF source (agents/tracer-agent/src/adapters/bpf-source.ts is missing)');
    }
    throw new Error(`loading the BPF source failed: ${e.message}`);
  }
  if (typeof mod.createBpfSource !== 'function') throw new Error('bpf-source.ts does not export createBpfSource');
  return mod.createBpfSource(options);
}

export async function selectSource(
  options: SourceOptions & { proc?: Omit<ProcSourceOptions, keyof SourceOptions> },
  onBatch: (batch: SourceRecord[]) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SelectedSource> {
  const mode = agentMode(env);
  const pollMs = pollIntervalMs(env);
  const { proc, ...sourceOptions } = options;
  let fallbackReason: string;
  if (mode === 'proc') {
    fallbackReason = 'TRACER_AGENT_MODE=proc';
  } else {
    let bpf: TelemetrySource | undefined;
    try {
      bpf = await createBpfSourceIfAvailable(sourceOptions);
      await bpf.start(onBatch);
      return { source: bpf };
    } catch (err) {
      await bpf?.stop().catch(() => {});
      const reason = (err as Error).message;
      if (mode === 'bpf') throw new Error(`BPF capture unavailable (TRACER_AGENT_MODE=bpf): ${reason}`);
      fallbackReason = `BPF unavailable: ${reason}`;
    }
  }
  const source = await createProcSource({
    ...sourceOptions,
    ...(pollMs !== undefined ? { pollIntervalMs: pollMs } : {}),
    ...proc,
  });
  await source.start(onBatch);
  if (source.kmsgProblem) fallbackReason += `; ${source.kmsgProblem}`;
  log.warn({ reason: fallbackReason }, 'capturing by /proc sampling');
  return { source, fallbackReason };
}
