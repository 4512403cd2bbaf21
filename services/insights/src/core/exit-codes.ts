// What an exit status means. Shells report a child killed by signal N as exit 128+N, so
// 137 is SIGKILL and 139 SIGSEGV whether the kernel or a wrapper tells us.
import { signalName } from '@tracer/events';

export { SIGKILL, SIGPIPE, SIGTERM, SIGXCPU, signalName, signalNames } from '@tracer/events';

/** Signals that mean the program itself crashed (as opposed to being told to stop). */
export const crashSignals = new Set([4, 5, 6, 7, 8, 11, 31]);

const signalMeanings: Record<number, string> = {
  2: 'interrupted (Ctrl-C or SIGINT from a wrapper)',
  4: 'illegal instruction: a binary built for a newer CPU, or memory corruption',
  6: 'aborted: a failed assertion, a detected memory corruption or an uncaught C++ exception',
  7: 'bus error: often a truncated or changed memory-mapped file',
  8: 'arithmetic error (division by zero)',
  9: 'killed by SIGKILL: the kernel OOM killer, a scheduler enforcing a limit, or a user',
  11: 'segmentation fault: invalid memory access (a bug, or a corrupt input it does not check)',
  13: 'broken pipe: the reader of its output went away first (usually a consequence, not a cause)',
  15: 'terminated by SIGTERM: a scheduler cancel or time limit, or a user',
  24: 'CPU time limit exceeded (SIGXCPU)',
  25: 'file size limit exceeded (SIGXFSZ)',
};

const exitMeanings: Record<number, string> = {
  0: 'success',
  1: 'general error',
  2: 'misuse of a command or invalid arguments (usage error)',
  124: 'timed out: killed by timeout(1)',
  125: 'the wrapper itself failed (timeout(1) or docker run could not start the command)',
  126: 'command found but not executable (permission or wrong format)',
  127: 'command not found (not installed or not on PATH)',
  128: 'invalid exit argument',
  140: 'killed by SIGUSR2: the run-time limit of SGE/LSF-style schedulers',
  255: 'exit status out of range or a remote command (ssh) failed',
};

/** A short sentence for an exit status: the code, or the signal when the kernel reported one. */
export function describeExit(exitCode: number, signal?: number | null): string {
  if (signal) return `${signalName(signal)} (${signalMeanings[signal] ?? 'killed by a signal'})`;
  const direct = exitMeanings[exitCode];
  if (direct) return `exit ${exitCode}: ${direct}`;
  if (exitCode > 128 && exitCode < 128 + 65) {
    const sig = exitCode - 128;
    return `exit ${exitCode}: a child was killed by ${signalName(sig)}${signalMeanings[sig] ? ` (${signalMeanings[sig]})` : ''}`;
  }
  return `exit ${exitCode}: tool-specific error code`;
}

/** The signal a shell-style exit status stands for (137 -> 9), if any. */
export function signalFromExitCode(exitCode: number): number | undefined {
  return exitCode > 128 && exitCode < 128 + 65 ? exitCode - 128 : undefined;
}
