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
#define TR_ERR_PATH_MAX 512	/* syscall.error path as the process gave it */
#define TR_ERR_DATA 1024	/* that path, then the components of its base directory or file */
#define TR_SC_NR_MAX 512	/* syscall numbers described (x86_64 and arm64 are below 470) */
#define TR_SC_CLASSES 8		/* enum tr_sc_class, padded */
#define TR_CGROUP_PATH_MAX 512

enum tr_kind {
	TR_FORK = 1,
	TR_EXEC = 2,
	TR_EXIT = 3,
	TR_OOM = 4,
	TR_FILE_OPEN = 5,
	TR_LOG = 6,
	TR_SYSCALL_ERROR = 7,		/* a failure not seen before in this process: its details */
	TR_SYSCALL_ERROR_COUNT = 8,	/* how often one failure has happened so far */
	TR_CGROUP = 9,			/* a cgroup created or removed */
};

/* Slots of the per-CPU `losses` map: what the kernel side could not keep. */
enum tr_loss {
	TR_LOSS_RINGBUF = 0,		/* records bpf_ringbuf_reserve/output had no room for */
	TR_LOSS_TRACKED_FULL = 1,	/* descendants not tracked: the filter map was full */
	TR_LOSS_OPENS_SUPPRESSED = 2,	/* file opens over the per-process rate */
	TR_LOSS_LOG_BYTES = 3,		/* stdout/stderr bytes over the per-process rate */
	TR_LOSS_SYSCALL_ERRORS = 4,	/* distinct failures over the per-process rate, or no table */
	TR_LOSS_LOG_SKIPPED = 5,	/* not a loss: output bytes the capture policy leaves out */
	TR_LOSS_KINDS = 6,
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
	__u64 exec_maxrss_pages;	/* the image since the last exec alone (0: not seen) */
	__u64 rchar;
	__u64 wchar;
	__u64 syscr;		/* read- and write-family calls */
	__u64 syscw;
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
	__u64 log_skipped;	/* from struct tr_counters, as are the next ones */
	__u64 errors_suppressed;
	__u64 sc_count[TR_SC_CLASSES];
	__u64 sc_ns[TR_SC_CLASSES];
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

/* What fd 1 or 2 points at: the S_IFMT bits of its inode, shifted down, except that a
 * character device that is not a terminal (/dev/null) gets a value of its own. */
enum tr_log_target {
	TR_TARGET_FIFO = 1,
	TR_TARGET_CHR = 2,	/* ttys and ptys */
	TR_TARGET_DEV = 3,	/* other character devices: /dev/null, /dev/zero */
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

/* Syscall classes, for the time a process spends asleep in each (syscalls.bpf.c). */
enum tr_sc_class {
	TR_SC_OTHER = 0,
	TR_SC_FILE = 1,		/* file I/O and metadata: read, write, open, stat, ... */
	TR_SC_NET = 2,		/* sockets */
	TR_SC_MEM = 3,		/* mmap, brk, madvise, ... */
	TR_SC_PROC = 4,		/* clone, execve, kill, ... */
	TR_SC_SYNC = 5,		/* fsync, fdatasync, sync, msync, sync_file_range */
	TR_SC_WAIT = 6,		/* futex, poll, epoll_wait, nanosleep, wait4 */
};

/* Value of the per-tgid `counters` map: what /proc lacks, read by user space while the
 * process runs (ProcessCounters) and folded into its tr_exit. */
struct tr_counters {
	__u64 io_wait_ns;
	__u64 net_send_bytes;
	__u64 net_recv_bytes;
	__u64 opens_suppressed;
	__u64 log_dropped[2];
	__u64 log_skipped;	/* stdout/stderr bytes the capture policy left out */
	__u64 errors_suppressed;	/* distinct syscall failures over the rate */
	__u64 sc_count[TR_SC_CLASSES];	/* sleeps inside syscalls, by enum tr_sc_class */
	__u64 sc_ns[TR_SC_CLASSES];	/* time asleep in them (summed over threads) */
};

/* Syscall descriptors (the addon fills sc_desc[nr] before load, from its arch's numbers):
 * class, where the call's object is, whether its failures are reported. */
#define TR_SC_CLASS_MASK 0x7
#define TR_SC_ARG_SHIFT 3
#define TR_SC_ARG_MASK 0xf
#define TR_SC_REPORT 0x80	/* report failures of this call */
#define TR_SC_EAGAIN 0x100	/* EAGAIN is a real failure here (fork: process limit) */
#define TR_SC_OPEN_FLAGS_SHIFT 9	/* 1 + index of the open-flags argument, 0: none */
#define TR_SC_OPEN_FLAGS_MASK 0x7
#define TR_SC_OPENAT2 0x1000	/* the flags are the first u64 of struct open_how (arg 2) */

/* Where a call's object is, in its arguments. */
enum tr_sc_arg {
	TR_ARG_NONE = 0,
	TR_ARG_PATH0 = 1,	/* path at arg 0, relative to the cwd */
	TR_ARG_PATH1 = 2,	/* path at arg 1, relative to the cwd */
	TR_ARG_AT1 = 3,		/* dirfd at arg 0, path at arg 1 */
	TR_ARG_AT2 = 4,		/* dirfd at arg 1, path at arg 2 */
	TR_ARG_FD0 = 5,		/* fd at arg 0 */
	TR_ARG_FD2 = 6,		/* fd at arg 2 (copy_file_range, splice: the output) */
	TR_ARG_ADDR1 = 7,	/* sockaddr at arg 1, length at arg 2 (connect, bind) */
	TR_ARG_ADDR4 = 8,	/* sockaddr at arg 4, length at arg 5 (sendto), else the fd's peer */
};

/* What tr_syscall_error.data holds. */
enum tr_err_object {
	TR_OBJ_NONE = 0,
	TR_OBJ_PATH = 1,	/* path_len bytes as given, NUL, then base_len bytes of the base
				 * directory's components (leaf first) when the path is relative */
	TR_OBJ_FILE = 2,	/* base_len bytes: the fd's file, components leaf first */
	TR_OBJ_ADDR = 3,	/* path_len bytes of a struct sockaddr (family first) */
	TR_OBJ_PEER = 4,	/* the socket fd's peer, as a struct sockaddr_in/in6 */
};

#define TR_ERR_PATH_TRUNCATED 1
#define TR_ERR_BASE_TRUNCATED 2
#define TR_ERR_MOUNT_KNOWN 4	/* mnt_len is set: the walk crossed out of the file's mount */

/* The first time a process fails a call in a way not seen before (the same call, errno and
 * object: key). Repeats only count (tr_syscall_error_count); distinct failures are
 * rate-limited per process, the excess counted (TR_LOSS_SYSCALL_ERRORS). */
struct tr_syscall_error {
	struct tr_head h;
	__u64 key;		/* hash of call, errno, object: names the failure in later counts */
	__u32 nr;		/* syscall number (the addon names it) */
	__u32 err;		/* positive errno */
	__u32 object;		/* enum tr_err_object */
	__s32 fd;		/* the dirfd or fd argument, -100 for AT_FDCWD, else -1 */
	__u32 open_flags;	/* O_* flags of open, openat, openat2 */
	__u16 path_len;
	__u16 base_len;
	__u16 mnt_len;		/* of the base components: those inside the file's own mount
				 * (TR_ERR_MOUNT_KNOWN); the rest name its mount point */
	__u16 flags;		/* TR_ERR_* */
	__u32 _pad;
	char data[TR_ERR_DATA + TR_NAME_MAX];
};

/* How often the failure `key` has happened in this process since its tr_syscall_error:
 * sent at most once per report interval while it repeats, and when the process exits or
 * the failure leaves the per-process table (final). */
struct tr_syscall_error_count {
	struct tr_head h;
	__u64 key;
	__u64 count;
	__u64 first_ns;
	__u64 last_ns;
	__u32 final;
	__u32 _pad;
};

#define TR_CGROUP_MKDIR 1
#define TR_CGROUP_RMDIR 2

/* A cgroup of the hierarchy exec records take their cgroup_id from (the unified one, or
 * the v1 memory hierarchy) was created or removed. */
struct tr_cgroup {
	struct tr_head h;	/* pid: the task that made or removed it */
	__u64 cgroup_id;
	__u32 op;		/* TR_CGROUP_* */
	__u32 level;		/* depth below the hierarchy root */
	__u32 path_len;
	__u32 _pad;
	char path[TR_CGROUP_PATH_MAX];	/* relative to the hierarchy root, "/a/b" */
};

#endif /* TRACER_EVENTS_H */
