/* bpf/files.bpf.c: file opens (open, openat, openat2): the path as the process gave it,
 * flags, and the result. The path is read at syscall exit, once the kernel has copied it
 * (so its page is resident); each process gets a token bucket, checked at enter, and what
 * it suppresses is counted per process and in `losses`. */
#include "common.bpf.h"

/* Tunables, set by the loader before load. */
const volatile __u32 open_rate_per_sec = 100;	/* sustained opens reported per process */
const volatile __u32 open_burst = 500;		/* opens reported back to back (startup) */

struct open_args {
	__u64 path;	/* user pointer */
	__u32 flags;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);	/* tid, between enter and exit */
	__type(value, struct open_args);
} opening SEC(".maps");

/* GCRA token bucket: one "theoretical arrival time" per process. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);	/* tgid */
	__type(value, __u64);
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
	__u64 tolerance = interval * open_burst, tat, *slot;

	slot = bpf_map_lookup_elem(&open_tat, &tgid);
	if (!slot) {
		tat = now + interval;
		bpf_map_update_elem(&open_tat, &tgid, &tat, BPF_ANY);
		return true;
	}
	tat = *slot > now ? *slot : now;
	if (tat - now > tolerance)
		return false;
	*slot = tat + interval;
	return true;
}

/* The rate limit is applied here, at enter: a suppressed open costs no map entry, no
 * path read and no exit work (tar or find open thousands of files a second). */
static __always_inline int remember(__u64 path, __u32 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct open_args a = {.path = path, .flags = flags};
	struct tr_counters *c;

	if (!wanted(tgid))
		return 0;
	if (!allow(tgid, bpf_ktime_get_boot_ns())) {
		count_loss(TR_LOSS_OPENS_SUPPRESSED, 1);
		c = counters_of(tgid);
		if (c)
			__sync_fetch_and_add(&c->opens_suppressed, 1);
		return 0;
	}
	bpf_map_update_elem(&opening, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline int report(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0, len;
	struct open_args *a = bpf_map_lookup_elem(&opening, &tid);
	struct tr_file_open *e;
	long n;

	if (!a)
		return 0;
	e = bpf_map_lookup_elem(&open_scratch, &zero);
	if (!e)
		goto out;
	fill_head(&e->h, TR_FILE_OPEN, (struct task_struct *)bpf_get_current_task());
	e->ret = ret;
	e->flags = a->flags;
	e->path_flags = 0;
	n = bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)a->path);
	len = n > 0 ? n - 1 : 0;
	if (len >= sizeof(e->path) - 1)
		e->path_flags |= TR_OPEN_PATH_TRUNCATED;
	e->path_len = len;
	/* Send the header and the path only. */
	len &= sizeof(e->path) - 1;
	if (bpf_ringbuf_output(&events, e, offsetof(struct tr_file_open, path) + len + 1, rb_flags()))
		count_loss(TR_LOSS_RINGBUF, 1);
out:
	bpf_map_delete_elem(&opening, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	return remember(ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return report(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int enter_openat2(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = 0;

	/* struct open_how starts with its u64 flags. */
	bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[2]);
	return remember(ctx->args[1], (__u32)flags);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return report(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_open")
int enter_open(struct trace_event_raw_sys_enter *ctx)
{
	return remember(ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return report(ctx->ret);
}
