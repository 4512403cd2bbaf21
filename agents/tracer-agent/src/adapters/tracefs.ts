// Classic tracepoints (`tracepoint/syscalls/*`: file opens, stdout/stderr writes, failed
// syscalls) are attached by the id tracefs publishes under events/. Where tracefs is not
// mounted (minimal VMs and containers without systemd's sys-kernel-tracing.mount) libbpf finds
// no id, those programs fail with ENOENT and the capture silently lacks logs, opens and
// failed calls. The agent mounts it, as perf and bpftrace users are told to.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where kernels publish tracefs: its own mount point, then the older debugfs path. */
export const TRACEFS_MOUNT_POINTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'] as const;

export type TracefsState = { ok: true; root: string; mounted: boolean } | { ok: false; problem: string };

interface TracefsDeps {
  exists: (path: string) => boolean;
  mount: (target: string) => void;
}

const system: TracefsDeps = {
  exists: existsSync,
  mount: (target) =>
    execFileSync('mount', ['-t', 'tracefs', 'tracefs', target], { stdio: ['ignore', 'ignore', 'pipe'] }),
};

const eventsRoot = (deps: TracefsDeps) => TRACEFS_MOUNT_POINTS.find((p) => deps.exists(`${p}/events`));

/** A tracefs with events/, mounting it at /sys/kernel/tracing when none is. */
export function ensureTracefs(deps: TracefsDeps = system): TracefsState {
  const found = eventsRoot(deps);
  if (found) return { ok: true, root: found, mounted: false };
  const target = TRACEFS_MOUNT_POINTS[0];
  let why = `${target} is not there`;
  if (deps.exists(target)) {
    try {
      deps.mount(target);
      if (deps.exists(`${target}/events`)) return { ok: true, root: target, mounted: true };
      why = `mounting it at ${target} showed no events/`;
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      why = `mounting it at ${target} failed: ${stderr || (err as Error).message}`;
    }
  }
  return {
    ok: false,
    problem:
      `tracefs is not mounted and ${why}; file opens, stdout/stderr and failed syscalls are not captured ` +
      `(as root: mount -t tracefs tracefs ${target})`,
  };
}
