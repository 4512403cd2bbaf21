// Releasing a perf-event tracepoint link waits for two RCU grace periods under the kernel's
// event_mutex (perf_trace_event_unreg -> tracepoint_synchronize_unregister), one link after
// the other whatever the threads: syscalls.bpf.c's ~110 links held `tracer run` 4-8 s at exit
// on a small VM. A short command should not wait for that. A helper process inherits the
// link fds and holds them a moment; our own closes are then only decrements (libbpf disables
// each perf event first, so no program runs meanwhile), and the release runs in the helper's
// exit, after we are gone. Whatever fails here, the release happens in our own close instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const HOLDER = '/bin/sleep';
/** Long enough to outlast our closes right after the spawn, on a loaded machine too. */
const HOLD_SECONDS = '3';

/** Hands `fds` to a detached helper; returns whether one was started. */
export function releaseInBackground(fds: readonly number[]): boolean {
  if (fds.length === 0 || !existsSync(HOLDER)) return false;
  try {
    const child = spawn(HOLDER, [HOLD_SECONDS], { stdio: ['ignore', 'ignore', 'ignore', ...fds], detached: true });
    child.on('error', () => {}); // the release then happens in our close
    child.unref();
    return true;
  } catch {
    return false;
  }
}
