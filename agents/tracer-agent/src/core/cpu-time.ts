// Splitting a process's exact CPU time into user and system the way the kernel does for
// wait4/getrusage (kernel/sched/cputime.c, cputime_adjust): the scheduler's
// sum_exec_runtime is exact but has no user/system split; the tick samples (utime, stime)
// have the split but miss whatever ran between ticks (a 1 ms tool may have no tick at all).
// So the total comes from the scheduler and the ratio from the ticks, kept monotonic against
// the split the kernel already handed out (signal->prev_cputime).

export interface CpuSample {
  /** Exact CPU time: CFS sum_exec_runtime over every thread. */
  sumExecNs: bigint;
  /** Tick-sampled user and system time. */
  utimeNs: bigint;
  stimeNs: bigint;
  /** The split reported last time (signal->prev_cputime); 0 when never read. */
  prevUtimeNs?: bigint;
  prevStimeNs?: bigint;
}

export interface CpuSplit {
  userNs: bigint;
  sysNs: bigint;
}

/** cputime_adjust: user + sys == max(sumExecNs, prevUtime + prevStime). */
export function splitCpuTime(sample: CpuSample): CpuSplit {
  const rtime = sample.sumExecNs;
  const prevU = sample.prevUtimeNs ?? 0n;
  const prevS = sample.prevStimeNs ?? 0n;
  // Runtime not beyond what was already handed out: the previous split stands.
  if (prevS + prevU >= rtime) return { userNs: prevU, sysNs: prevS };

  let stime = sample.stimeNs;
  const utime = sample.utimeNs;
  if (stime === 0n) {
    // No system tick: all user (and the reverse); monotonicity converges the ratio later.
    stime = 0n;
  } else if (utime === 0n) {
    stime = rtime;
  } else {
    // mul_u64_u64_div_u64 is exact on x86-64: a 128-bit product, truncating division.
    stime = (stime * rtime) / (stime + utime);
    if (stime > rtime) stime = rtime;
  }
  // Neither part goes backwards against the previous split.
  if (stime < prevS) stime = prevS;
  let user = rtime - stime;
  if (user < prevU) {
    user = prevU;
    stime = rtime - user;
  }
  return { userNs: user, sysNs: stime };
}
