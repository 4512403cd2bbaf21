/* bpf/files.bpf.c: file opens (open, openat, openat2): the path as the process gave it,
 * flags, and the result, all taken at syscall exit: the arguments are still in the user
 * registers (pt_regs), and the kernel has copied the path (so its page is resident). Nothing
 * runs at enter and nothing is kept between enter and exit: the storm of a shell loop opens
 * a few files per process, and an enter program with a map entry per open cost more than the
 * report. Each process gets a token bucket; what it suppresses is counted per process and in
 * `losses`. */
#include "common.bpf.h"

/* Tunables, set by the loader before load. */
const volatile __u32 open_rate_per_sec = 100;	/* sustained opens reported per process */
const volatile __u32 open_burst = 500;		/* opens reported back to back (startup) */

/* GCRA token bucket: one "theoretical arrival time" per process, in an array slot by tgid
 * (an inlined lookup, no map insert for each new process: most short tools open a few files).
 * A slot holding another process (an older holder of the pid, or a collision of two live
 * processes mod OPEN_SLOTS) starts afresh: a collision can only let more opens through. */
#define OPEN_SLOTS 16384

struct open_bucket {
	__u32 tgid;
	__u32 _pad;
	__u64 start_ns;	/* the process's start time */
	__u64 tat;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OPEN_SLOTS);
	__type(key, __u32);	/* tgid & (OPEN_SLOTS - 1) */
	__type(value, struct open_bucket);
} open_tat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_file_open);
} open_scratch SEC(".maps");

/* Whether this process may report one more open now. */
static __always_inline bool allow(__u32 tgid, __u64 now)
{
	__u64 interval = 1000000000ull / (open_rate_per_sec ? open_rate_per_sec : 1);
	__u64 tolerance = interval * open_burst, tat, start;
	__u32 idx = tgid & (OPEN_SLOTS - 1);
	struct open_bucket *b = bpf_map_lookup_elem(&open_tat, &idx);

	if (!b)
		return true;
	start = process_start_ns(bpf_get_current_task_btf());
	if (b->tgid != tgid || b->start_ns != start) {
		b->tgid = tgid;
		b->start_ns = start;
		b->tat = now + interval;
		return true;
	}
	tat = b->tat > now ? b->tat : now;
	if (tat - now > tolerance)
		return false;
	b->tat = tat + interval;
	return true;
}

/* Reports one open of a captured process: path and flags from the user's arguments. */
static __always_inline int report(__u32 tgid, long ret, __u64 path, __u32 flags)
{
	__u32 zero = 0, len;
	struct tr_file_open *e;
	struct tr_counters *c;
	long n;

	if (!allow(tgid, bpf_ktime_get_boot_ns())) {
		count_loss(TR_LOSS_OPENS_SUPPRESSED, 1);
		c = counters_of(tgid);
		if (c)
			__sync_fetch_and_add(&c->opens_suppressed, 1);
		return 0;
	}
	e = bpf_map_lookup_elem(&open_scratch, &zero);
	if (!e)
		return 0;
	fill_head(&e->h, TR_FILE_OPEN, bpf_get_current_task_btf());
	e->ret = ret;
	e->flags = flags;
	e->path_flags = 0;
	n = bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)path);
	len = n > 0 ? n - 1 : 0;
	if (len >= sizeof(e->path) - 1)
		e->path_flags |= TR_OPEN_PATH_TRUNCATED;
	e->path_len = len;
	/* Send the header and the path only. */
	len &= sizeof(e->path) - 1;
	if (bpf_ringbuf_output(&events, e, offsetof(struct tr_file_open, path) + len + 1, rb_flags()))
		count_loss(TR_LOSS_RINGBUF, 1);
	return 0;
}

/* The calling task's user registers, where its syscall arguments still are at exit. */
static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pt_regs *r;

	if (!wanted(tgid))	/* the filter, before anything is read */
		return 0;
	r = user_regs();
	return report(tgid, ctx->ret, PT_REGS_PARM2_CORE_SYSCALL(r), PT_REGS_PARM3_CORE_SYSCALL(r));
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pt_regs *r;
	__u64 flags = 0;

	if (!wanted(tgid))
		return 0;
	r = user_regs();
	/* struct open_how starts with its u64 flags. */
	bpf_probe_read_user(&flags, sizeof(flags), (void *)PT_REGS_PARM3_CORE_SYSCALL(r));
	return report(tgid, ctx->ret, PT_REGS_PARM2_CORE_SYSCALL(r), (__u32)flags);
}

SEC("tracepoint/syscalls/sys_exit_open")
int exit_open(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pt_regs *r;

	if (!wanted(tgid))
		return 0;
	r = user_regs();
	return report(tgid, ctx->ret, PT_REGS_PARM1_CORE_SYSCALL(r), PT_REGS_PARM2_CORE_SYSCALL(r));
}
