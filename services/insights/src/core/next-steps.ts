// What to do next, per root-cause category, filled in with the packet's own numbers and paths.
import type { RootCauseCategory } from '@tracer/events';
import type { EvidencePacket } from './evidence.ts';

const GiB = 1024 ** 3;
const gib = (n: number) =>
  n < GiB ? `${Math.ceil(n / 1024 ** 2)} MiB` : `${(n / GiB).toFixed(n < 10 * GiB ? 1 : 0)} GiB`;

/** The path the kernel saw fail, else one the error lines name (quoted, or before ": No such file"). */
function firstPath(p: EvidencePacket, errnos: string[], category: RootCauseCategory): string | undefined {
  const s =
    p.syscallErrors.find((e) => errnos.includes(e.errno) && e.path) ??
    p.failedOpens.find((o) => errnos.includes(o.error));
  if (s?.path) return s.path;
  for (const l of p.errorLines) {
    if (l.category !== category) continue;
    const m =
      /["'‘`]((?:file:\/\/)?(?:[\w.~-]*\/)*[\w.~-]+\.\w+|\/[^"'’`\s]+)["'’`.]/.exec(l.text) ??
      /(?:^|\s)((?:\/|\.{1,2}\/)?[\w.~/-]+\.\w+|\/[\w.~/-]+): (?:No such file|Permission denied|Read-only|Disk quota)/.exec(
        l.text,
      ) ??
      /(?:genome file|directory) ((?:\/|\.{1,2}\/)[\w.~/-]+)/.exec(l.text) ??
      /file:\/\/(\/[\w.~/-]+)/.exec(l.text);
    if (m?.[1]) return m[1].replace(/^file:\/\//, '').replace(/\.$/, '');
  }
  return undefined;
}

export function nextStepsFor(category: RootCauseCategory, p: EvidencePacket): string[] {
  const tool = p.process.tool;
  switch (category) {
    case 'oom': {
      const peak = Math.max(p.resources.peakRssBytes, p.oom?.victimRssBytes ?? 0, p.oom?.memoryUsageBytes ?? 0);
      const limit = p.oom?.memoryLimitBytes;
      const suggest = peak > 0 ? gib(Math.max(peak * 1.5, (limit ?? 0) * 1.5)) : undefined;
      return [
        limit
          ? `Raise the task's memory limit from ${gib(limit)}${suggest ? ` to at least ${suggest}` : ''} (peak before the kill: ${gib(peak)}).`
          : `Give the task more memory${suggest ? ` (at least ${suggest}; its peak was ${gib(peak)})` : ''}, or run it on a larger instance.`,
        `Lower ${tool}'s own memory use: fewer threads, smaller sort/buffer sizes (e.g. samtools sort -m, STAR --limitBAMsortRAM), or split the input.`,
        'Check that other tasks on the same host or cgroup were not competing for memory at the time (see host memory pressure).',
      ];
    }
    case 'java_heap':
      return [
        'Raise the JVM heap (-Xmx, or JAVA_OPTS / the tool\'s --java-options, e.g. gatk --java-options "-Xmx8g"), keeping it about 80% of the task\'s memory.',
        'Give the task that much more memory in the workflow (Nextflow memory, Snakemake resources.mem_mb, Batch job memory).',
        'For GATK/Picard, reduce work per call (intervals, --max-records-in-ram) or use a larger machine.',
      ];
    case 'disk_full': {
      const path = firstPath(p, ['ENOSPC', 'EDQUOT'], 'disk_full');
      return [
        `Free or add space on the filesystem${path ? ` holding ${path}` : ''} (df -h; check quotas with quota -s).`,
        'Point temporary and work directories at a larger volume (TMPDIR, samtools sort -T, Nextflow workDir, Snakemake --shadow-prefix).',
        'Clean intermediate files between steps, or compress outputs.',
      ];
    }
    case 'time_limit':
      return [
        `Raise the time limit for this step${p.timeLimitNs ? ` (now ${Math.round(p.timeLimitNs / 1e9)} s)` : ''} (Slurm --time, Nextflow time, Batch timeout).`,
        `Check whether ${tool} was slowed by I/O or network wait, or host contention, before raising the limit.`,
        'Give it more CPUs/threads if it parallelizes, or split the input.',
      ];
    case 'missing_input': {
      const path = firstPath(p, ['ENOENT', 'ENOTDIR'], 'missing_input');
      return [
        path
          ? `Check that ${path} exists and is spelled right (relative to ${p.process.cwd}).`
          : `Check the input paths given to ${tool} exist (relative to ${p.process.cwd}).`,
        'Check that the upstream step that should produce it succeeded and wrote it where this step looks (staging, symlinks, work directory).',
        'For indexes (bwa, samtools faidx, STAR genomeDir), build them or point at the directory that has them.',
      ];
    }
    case 'corrupt_input':
      return [
        'Validate the input (gzip -t, samtools quickcheck, md5sum against the source) and re-download or regenerate it.',
        'Check whether the upstream step was killed mid-write (truncated output) and rerun it.',
        'Check the file format is the one the tool expects (FASTQ vs FASTA, BAM vs CRAM, sorted vs unsorted).',
      ];
    case 'missing_dependency':
      return [
        `Install the missing program, library or package in the task's environment (container image, conda env or module) and check PATH.`,
        'Pin the environment (container digest, conda lock file) so every host runs the same versions.',
      ];
    case 'permission': {
      const path = firstPath(p, ['EACCES', 'EPERM', 'EROFS'], 'permission');
      return [
        path
          ? `Check ownership and mode of ${path} and its directories (ls -ld), and whether the filesystem is mounted read-only.`
          : 'Check ownership and mode of the files and directories the task writes, and read-only mounts.',
        'Check the user the task runs as (containers often run as another uid) and cloud credentials/IAM permissions for remote storage.',
      ];
    }
    case 'network': {
      const addr = p.syscallErrors.find((e) => e.addr)?.addr;
      return [
        `Check that the remote service${addr ? ` at ${addr}` : ''} is up and reachable from this host (DNS, security groups, proxy, firewall).`,
        'Retry with backoff for transient errors; stage remote inputs locally before the step.',
        'Check for throttling (HTTP 429/503, S3 SlowDown) and reduce concurrency.',
      ];
    }
    case 'segfault':
      return [
        `Check whether ${tool} crashes on this input only (corrupt or unexpected input) or on every input (a bug or a binary built for another CPU/library).`,
        'Upgrade the tool or use another build; report it upstream with the input and the core dump if one was written.',
        'Run it again with a memory checker (valgrind, ASan build) on a small input to locate the fault.',
      ];
    case 'config_error':
      return [
        `Check ${tool}'s command line and parameters against its documentation for this version (the error lines name the option).`,
        'Check the workflow configuration (params, config files, sample sheet) for typos and mismatched references.',
      ];
    case 'unknown':
      return [
        `Read the last lines of ${tool}'s output and the exit status; rerun it by hand in its work directory to reproduce.`,
        'Enable more logging (verbose flags) so the next failure leaves evidence.',
      ];
  }
}
