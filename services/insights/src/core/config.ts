// Detector settings: defaults here, overridden per pipeline and then per step by a config
// object (`{ defaults, pipelines: { name: {...} }, steps: { name: {...} } }`). The most
// specific wins, field by field.

export interface DetectorSettings {
  oomKill: { enabled: boolean };
  noProgress: {
    enabled: boolean;
    /** Alive with no CPU, no I/O and no output for this long. */
    afterNs: number;
    /** CPU below this between two samples counts as none (timer ticks, polling). */
    cpuEpsilonNs: number;
    /** Tools whose job is to wait (sleep) never count as stalled. */
    ignoreTools: string[];
  };
  ioWait: { enabled: boolean; minShare: number; minNs: number };
  networkWait: { enabled: boolean; minShare: number; minNs: number };
  slowStep: {
    enabled: boolean;
    /** Past runs needed before a baseline is trusted. */
    minHistory: number;
    /** Slower than median x factor ... */
    factor: number;
    /** ... and this many robust standard deviations (1.4826 x MAD) above the median. */
    minRobustZ: number;
    /** Steps shorter than this are never called slow (noise). */
    minDurationNs: number;
  };
  diskFull: { enabled: boolean };
  nonzeroExit: { enabled: boolean };
  signal: { enabled: boolean };
  timeLimit: {
    enabled: boolean;
    /** The step's own limit, when known: a kill near it is a time-limit kill. */
    limitNs?: number;
  };
  retry: { enabled: boolean };
  memoryPressure: {
    enabled: boolean;
    /** PSI memory "some" avg10 in percent. */
    minSome10: number;
    /** Or available memory below this share of the total. */
    maxAvailableShare: number;
    minNs: number;
  };
  cpuOversubscription: {
    enabled: boolean;
    /** PSI cpu "some" avg10 in percent. */
    minSome10: number;
    /** Or load average above CPUs x this. */
    loadPerCpu: number;
    minNs: number;
  };
  idleHost: { enabled: boolean; maxCpuBusyRatio: number; afterNs: number };
}

const s = 1e9;

export const defaultSettings: DetectorSettings = {
  oomKill: { enabled: true },
  noProgress: { enabled: true, afterNs: 120 * s, cpuEpsilonNs: 20e6, ignoreTools: ['sleep'] },
  ioWait: { enabled: true, minShare: 0.3, minNs: 10 * s },
  networkWait: { enabled: true, minShare: 0.5, minNs: 10 * s },
  slowStep: { enabled: true, minHistory: 5, factor: 2, minRobustZ: 3.5, minDurationNs: 1 * s },
  diskFull: { enabled: true },
  nonzeroExit: { enabled: true },
  signal: { enabled: true },
  timeLimit: { enabled: true },
  retry: { enabled: true },
  memoryPressure: { enabled: true, minSome10: 10, maxAvailableShare: 0.05, minNs: 10 * s },
  cpuOversubscription: { enabled: true, minSome10: 40, loadPerCpu: 1.5, minNs: 30 * s },
  idleHost: { enabled: true, maxCpuBusyRatio: 0.05, afterNs: 15 * 60 * s },
};

export type SettingsOverride = { [K in keyof DetectorSettings]?: Partial<DetectorSettings[K]> };

export interface InsightsConfig {
  defaults?: SettingsOverride;
  pipelines?: Record<string, SettingsOverride>;
  steps?: Record<string, SettingsOverride>;
}

function merge(base: DetectorSettings, over: SettingsOverride | undefined): DetectorSettings {
  if (!over) return base;
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    if (v) out[k] = { ...(base as unknown as Record<string, object>)[k], ...v };
  }
  return out as unknown as DetectorSettings;
}

/** The settings for one process: defaults, then its pipeline's, then its step's. */
export function resolveSettings(
  config: InsightsConfig | undefined,
  pipeline?: string,
  step?: string,
): DetectorSettings {
  let out = merge(defaultSettings, config?.defaults);
  if (pipeline) out = merge(out, config?.pipelines?.[pipeline]);
  if (step) out = merge(out, config?.steps?.[step]);
  return out;
}
