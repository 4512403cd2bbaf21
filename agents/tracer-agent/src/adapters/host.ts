// Host info and host samples from /proc and /sys. Cloud identity comes only from DMI
// (/sys/class/dmi/id) and the local hostname: this module never contacts a network address,
// not even the instance metadata service.
import { readFileSync, statfsSync } from 'node:fs';
import { availableParallelism, hostname, release } from 'node:os';
import type { PayloadOf } from '@tracer/events';
import {
  type CpuTimes,
  defaultProcPaths,
  type ProcPaths,
  readBootId,
  readCpuTimes,
  readLoad1,
  readMeminfo,
  readNetDev,
  readPressure,
} from './procfs.ts';

/** An event's own fields, without `type` (the caller adds type and ts). */
type Fields<K extends 'host.info' | 'host.sample'> = Omit<PayloadOf<K>, 'type'>;

export const DEFAULT_DMI_DIR = '/sys/class/dmi/id';

const readTrimmed = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

export interface Ec2Identity {
  cloud: 'aws';
  instanceId?: string;
  instanceType?: string;
  region?: string;
}

/**
 * EC2 identity when DMI says the host is EC2. Nitro instances put the instance id in
 * board_asset_tag and the type in product_name; the region comes from the environment or the
 * EC2 internal hostname (`ip-10-0-1-7.eu-west-1.compute.internal`; `ec2.internal` is us-east-1).
 */
export function readEc2Identity(
  dmiDir = DEFAULT_DMI_DIR,
  env: NodeJS.ProcessEnv = process.env,
  host = hostname(),
): Ec2Identity | undefined {
  const vendor = [
    readTrimmed(`${dmiDir}/sys_vendor`),
    readTrimmed(`${dmiDir}/bios_vendor`),
    readTrimmed(`${dmiDir}/board_vendor`),
  ];
  const xenAmazon = /amazon/i.test(readTrimmed(`${dmiDir}/bios_version`) ?? '');
  if (!vendor.some((v) => v === 'Amazon EC2') && !xenAmazon) return undefined;
  const id: Ec2Identity = { cloud: 'aws' };
  const assetTag = readTrimmed(`${dmiDir}/board_asset_tag`);
  if (assetTag && /^i-[0-9a-f]{8,17}$/.test(assetTag)) id.instanceId = assetTag;
  const product = readTrimmed(`${dmiDir}/product_name`);
  if (product && /^[a-z][a-z0-9-]*\.[0-9a-z]+$/.test(product)) id.instanceType = product;
  const region =
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    /\.([a-z]{2}(?:-gov)?-[a-z]+-[0-9])\.compute\.internal$/.exec(host)?.[1] ??
    (host.endsWith('.ec2.internal') ? 'us-east-1' : undefined);
  if (region) id.region = region;
  return id;
}

export function readHostInfo(
  options: { paths?: ProcPaths; dmiDir?: string; env?: NodeJS.ProcessEnv } = {},
): Fields<'host.info'> {
  const paths = options.paths ?? defaultProcPaths;
  const info: Fields<'host.info'> = {
    hostname: hostname(),
    bootId: readBootId(paths),
    kernel: release(),
    cpus: Math.max(1, availableParallelism()),
    memoryBytes: readMeminfo(paths).totalBytes,
  };
  const ec2 = readEc2Identity(options.dmiDir, options.env);
  return ec2 ? { ...info, ...ec2 } : info;
}

export interface HostSampler {
  /** CPU busy ratio since the previous sample (or since the sampler was created). */
  sample(): Fields<'host.sample'>;
}

export function createHostSampler(options: { paths?: ProcPaths; diskPath?: string } = {}): HostSampler {
  const paths = options.paths ?? defaultProcPaths;
  let previous: CpuTimes | undefined = readCpuTimes(paths);
  return {
    sample() {
      const cpu = readCpuTimes(paths);
      let busy = 0;
      if (cpu && previous && cpu.totalTicks > previous.totalTicks) {
        busy = (cpu.busyTicks - previous.busyTicks) / (cpu.totalTicks - previous.totalTicks);
      }
      previous = cpu ?? previous;
      const mem = readMeminfo(paths);
      const net = readNetDev(paths);
      const out: Fields<'host.sample'> = {
        cpuBusyRatio: Math.min(1, Math.max(0, busy)),
        load1: Math.max(0, readLoad1(paths)),
        memoryUsedBytes: Math.max(0, mem.totalBytes - mem.availableBytes),
        memoryAvailableBytes: mem.availableBytes,
        netRecvBytes: net.recvBytes,
        netSendBytes: net.sendBytes,
      };
      try {
        const fs = statfsSync(options.diskPath ?? '/');
        out.diskTotalBytes = fs.blocks * fs.bsize;
        out.diskUsedBytes = (fs.blocks - fs.bfree) * fs.bsize;
      } catch {
        // no disk figures for this path
      }
      const pressure: NonNullable<PayloadOf<'host.sample'>['pressure']> = {};
      for (const resource of ['cpu', 'memory', 'io'] as const) {
        const p = readPressure(resource, paths);
        if (p) pressure[resource] = p;
      }
      if (Object.keys(pressure).length > 0) out.pressure = pressure;
      return out;
    },
  };
}
