/* bpf/events.h: every record the kernel hands to user space, and the per-process counters
 * user space reads from a map. Includes nothing: vmlinux.h (BPF side) or <linux/types.h>
 * (addon) provide the __u types. Fixed-width fields, explicit padding, sizes asserted by the
 * addon (agents/tracer-agent/addon/src/records.cc), so layout drift breaks the build. */
#ifndef TRACER_EVENTS_H
#define TRACER_EVENTS_H

#define TR_COMM_LEN 16
#define TR_ARGV_MAX_ARGS 32	/* argv bound: 32 arguments ... */
#define TR_ARG_MAX 256		/* ... of at most 255 bytes + NUL each */
#define TR_NAME_MAX 256		/* one path component + NUL (NAME_MAX is 255) */
#define TR_PATH_MAX 4096	/* exe and cwd, components included */
#define TR_EXEC_DATA 16384	/* argv, then exe components, then cwd components */
#define TR_OPEN_PATH_MAX 1024	/* file.open path bound (longer ones are cut, flagged) */
#define TR_LOG_CHUNK 4096	/* stdout/stderr bytes per record */

enum tr_kind {
	TR_FORK = 1,
	TR_EXEC = 2,
	TR_EXIT = 3,
	TR_OOM = 4,
	TR_FILE_OPEN = 5,
	TR_LOG = 6,
};

/* Slots of the per-CPU `losses` map: what the kernel side could not keep. */
enum tr_loss {
	TR_LOSS_RINGBUF = 0,		/* records bpf_ringbuf_reserve/output had no room for */
	TR_LOSS_TRACKED_FULL = 1,	/* descendants not tracked: the filter map was full */
	TR_LOSS_OPENS_SUPPRESSED = 2,	/* file opens over the per-process rate */
	TR_LOSS_LOG_BYTES = 3,		/* stdout/stderr bytes over the per-process rate */
	TR_LOSS_KINDS = 4,
};

struct tr_head {
	__u32 kind;	/* first, so the reader can dispatch before reading on */
	__u32 pid;	/* tgid: the process, not the thread */
	__u64 ts_ns;	/* boot-time clock, the base of task->start_boottime */
	__u64 start_ns;	/* the process's start_boottime: with pid, its identity (upid) */
};

struct tr_fork {
	struct tr_head h;
	__u32 ppid;
	__u32 _pad;
	__u64 parent_start_ns;
};

#define TR_EXEC_ARGV_TRUNCATED 1	/* more than 32 arguments, or one longer than 255 bytes */
#define TR_EXEC_EXE_TRUNCATED 2		/* deeper or longer than the walk bound */
#define TR_EXEC_CWD_TRUNCATED 4

/* data[] holds argv_len bytes of NUL-terminated arguments, then exe_len bytes of
 * NUL-terminated path components from the file up to the root, then cwd_len bytes the same
 * way; the ring buffer carries only offsetof(data) + argv_len + exe_len + cwd_len bytes. */
struct tr_exec {
	struct tr_head h;
	__u32 ppid;
	__u32 uid;
	__u64 parent_start_ns;
	__u64 cgroup_id;	/* cgroup v2 id, or the v1 memory cgroup's kernfs id */
	__u16 argv_len;
	__u16 exe_len;
	__u16 cwd_len;
	__u16 flags;		/* TR_EXEC_* */
	__u32 argc;		/* arguments the process really has */
	__u32 _pad;
	char comm[TR_COMM_LEN];
	char data[TR_EXEC_DATA + TR_NAME_MAX];
};

/* Sampled once the whole thread group is gone, at the last thread's final context switch,
 * so the figures are the ones wait4()/getrusage(RUSAGE_CHILDREN) give the parent: every
 * field is signal->X (threads already reaped) plus each remaining thread's own X. */
struct tr_exit {
	struct tr_head h;
	__u32 exit_status;	/* wait status: exit code << 8, 0x80 core dumped, signal & 0x7f */
	__u32 threads;		/* threads summed (over TR_EXIT_THREADS_MAX: figures are low) */
	__u64 exit_ns;		/* boot-time clock at sched_process_exit of the last thread */
	__u64 sum_exec_ns;	/* exact CPU time (CFS sum_exec_runtime) */
	__u64 utime_ns;		/* tick-sampled user time: the ratio cputime_adjust splits by */
	__u64 stime_ns;
	__u64 prev_utime_ns;	/* signal->prev_cputime, cputime_adjust's monotonic floor */
	__u64 prev_stime_ns;
	__u64 maxrss_pages;	/* signal->maxrss: the kernel's RSS high-water mark */
	__u64 rchar;
	__u64 wchar;
	__u64 read_bytes;
	__u64 write_bytes;
	__u64 cancelled_write_bytes;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 io_wait_ns;	/* from struct tr_counters, then the entry is deleted */
	__u64 net_send_bytes;
	__u64 net_recv_bytes;
	__u64 opens_suppressed;
	__u64 log_dropped[2];	/* stdout, stderr bytes dropped and not yet reported in a chunk */
	char comm[TR_COMM_LEN];
};

#define TR_EXIT_THREADS_MAX 64

enum tr_oom_constraint {
	TR_OOM_GLOBAL = 0,
	TR_OOM_CPUSET = 1,
	TR_OOM_MEMPOLICY = 2,
	TR_OOM_MEMCG = 3,
};

/* h.pid and h.start_ns name the victim (oc->chosen), never the task that hit the limit. */
struct tr_oom {
	struct tr_head h;
	__u32 trigger_pid;
	__u32 constraint;	/* enum tr_oom_constraint */
	__u64 cgroup_id;	/* the OOM memcg's kernfs id (0 for a global OOM) */
	__u64 limit_pages;	/* memcg memory.max, or oc->totalpages for a global OOM */
	__u64 usage_pages;	/* memcg page_counter usage (0 for a global OOM) */
	__u64 victim_rss_pages;	/* anon + file + shmem pages of the victim's mm */
	char comm[TR_COMM_LEN];
};

#define TR_OPEN_PATH_TRUNCATED 1

struct tr_file_open {
	struct tr_head h;
	__s32 ret;		/* fd, or -errno */
	__u32 flags;		/* open flags (O_*) */
	__u32 path_len;		/* bytes of path[], NUL excluded */
	__u32 path_flags;	/* TR_OPEN_PATH_* */
	char path[TR_OPEN_PATH_MAX];
};

/* What fd 1 or 2 points at: the S_IFMT bits of its inode, shifted down. */
enum tr_log_target {
	TR_TARGET_FIFO = 1,
	TR_TARGET_CHR = 2,	/* ttys */
	TR_TARGET_REG = 8,
	TR_TARGET_SOCK = 12,
};

struct tr_log {
	struct tr_head h;
	__u32 stream;		/* 1 stdout, 2 stderr (see output.bpf.c) */
	__u32 len;		/* bytes of data[] */
	__u64 dropped_bytes;	/* bytes of this stream not captured since its previous chunk */
	__u32 target;		/* enum tr_log_target */
	__u32 _pad;
	char data[TR_LOG_CHUNK];
};

/* Value of the per-tgid `counters` map: what /proc lacks, read by user space while the
 * process runs (ProcessCounters) and folded into its tr_exit. */
struct tr_counters {
	__u64 io_wait_ns;
	__u64 net_send_bytes;
	__u64 net_recv_bytes;
	__u64 opens_suppressed;
	__u64 log_dropped[2];
};

#endif /* TRACER_EVENTS_H */
