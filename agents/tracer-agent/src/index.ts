// The host agent: sources (eBPF, /proc fallback), samplers, trace files, and `runTraced`,
// the orchestration behind `tracer run`. The pure core is exported separately as "./core".
export { bootWallNs, nowNs } from './adapters/clock.ts';
export { createHostSampler, readEc2Identity, readHostInfo } from './adapters/host.ts';
export { createProcSource, ProcSource, type ProcSourceOptions } from './adapters/proc-source.ts';
export { sampleProcesses, startProcessSampler } from './adapters/process-sampler.ts';
export { agentMode, createBpfSourceIfAvailable, type SelectedSource, selectSource } from './adapters/select-source.ts';
export * from './adapters/trace-store.ts';
export { TraceWriter } from './adapters/trace-writer.ts';
export { type RunTracedOptions, type RunTracedResult, runTraced } from './run-traced.ts';
