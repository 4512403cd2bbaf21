/* bpf/output.bpf.c: what processes write to their stdout and stderr (fd 1 and 2), through
 * write and writev, captured at syscall entry. What fd 1 or 2 points at decides whether it
 * is captured at all (capture_targets: output data is never collected, so stdout into a
 * regular file, `tool > out.sam`, is left out and only counted; stderr is diagnostics and is
 * kept in files too). Each process gets log_bytes_per_sec per second; bytes over it are
 * counted and the next chunk of that stream says how many were dropped before it.
 * The stream is told by file, not fd number: `echo oops >&2` in a shell is dup2(2, 1) then
 * write(1), so a write is stderr when it goes to the file the process had at fd 2 when it
 * exec'd (inherited across fork), stdout for its fd 1 file, else by fd number. Those files
 * are recorded at exec only where they differ from what the process inherited (a shell
 * loop's children mostly inherit them), and looked up through the ancestors at write time,
 * so fork and most execs cost no map update. */
#include "common.bpf.h"

/* Tunables, set by the loader before load. */
const volatile __u32 log_bytes_per_sec = 65536;
/* Per stream (0 stdout, 1 stderr): bit (1 << enum tr_log_target) set = capture writes there. */
const volatile __u32 capture_targets[2] = {
	(1 << TR_TARGET_FIFO) | (1 << TR_TARGET_CHR) | (1 << TR_TARGET_SOCK),
	(1 << TR_TARGET_FIFO) | (1 << TR_TARGET_CHR) | (1 << TR_TARGET_SOCK) | (1 << TR_TARGET_REG) |
		(1 << TR_TARGET_DEV),
};

#define MAX_CHUNKS_PER_CALL 4	/* 16 KiB of one write; the rest counts as dropped */
#define MAX_IOVECS 8

struct log_budget {
	__u64 window_start_ns;
	__u64 used;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);	/* per-CPU LRU lists: no global lock on insert */
	__uint(max_entries, 65536);
	__type(key, __u32);	/* tgid */
	__type(value, struct log_budget);
} budgets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_log);
} log_scratch SEC(".maps");

/* The files a process had at fd 1 and 2 when it exec'd. */
struct streams {
	__u64 out;
	__u64 err;
	__u64 start_ns;	/* the process's start: an entry left by an earlier holder of the pid is not its */
};

#define STREAMS_DEPTH 8	/* ancestors looked through for the nearest entry */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);	/* per-CPU LRU lists: no global lock on insert */
	__uint(max_entries, 65536);
	__type(key, __u32);	/* tgid */
	__type(value, struct streams);
} streams_of SEC(".maps");

/* Bytes of `want` this process may still send in the current one-second window. */
static __always_inline __u64 take_budget(__u32 tgid, __u64 want, __u64 now)
{
	struct log_budget *b = bpf_map_lookup_elem(&budgets, &tgid), fresh = {};
	__u64 left;

	if (!b) {
		fresh.window_start_ns = now;
		bpf_map_update_elem(&budgets, &tgid, &fresh, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&budgets, &tgid);
		if (!b)
			return 0;
	}
	if (now - b->window_start_ns >= 1000000000ull) {
		b->window_start_ns = now;
		b->used = 0;
	}
	left = b->used < log_bytes_per_sec ? log_bytes_per_sec - b->used : 0;
	if (want > left)
		want = left;
	b->used += want;
	return want;
}

static __always_inline struct file *file_of(struct task_struct *t, __u32 fd)
{
	struct file **fds = BPF_CORE_READ(t, files, fdt, fd);
	struct file *f = NULL;

	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 3]);
	return f;
}

/* Terminal majors (Documentation/admin-guide/devices.txt): 3 and 4 legacy ptys and
 * virtual consoles, 5 /dev/tty, console, ptmx, 136-143 Unix98 pty slaves, 188 USB serial,
 * 204 low-density serial ports (ttyAMA). */
static __always_inline bool tty_major(__u32 major)
{
	return (major >= 3 && major <= 5) || (major >= 136 && major <= 143) || major == 188 || major == 204;
}

static __always_inline __u32 target_of(struct file *f)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	__u32 t = (BPF_CORE_READ(ino, i_mode) >> 12) & 0xf;

	if (t == TR_TARGET_CHR && !tty_major(BPF_CORE_READ(ino, i_rdev) >> 20))
		return TR_TARGET_DEV;
	return t;
}

/* Whether the policy captures this stream's writes to this target; if not, they are
 * counted per process and in `losses` (TR_LOSS_LOG_SKIPPED). */
static __always_inline bool policy_allows(__u32 stream, __u32 target, __u64 bytes, struct tr_counters *c)
{
	if (capture_targets[(stream - 1) & 1] & (1u << (target & 31)))
		return true;
	count_loss(TR_LOSS_LOG_SKIPPED, bytes);
	__sync_fetch_and_add(&c->log_skipped, bytes);
	return false;
}

/* The streams entry that holds for t's process: its own, else its nearest ancestor's. */
static __always_inline struct streams *streams_for(struct task_struct *t)
{
	struct streams *s;
	__u32 tgid;
	int i;

	for (i = 0; i < STREAMS_DEPTH; i++) {
		t = t->group_leader;
		if (!t)
			return NULL;
		tgid = t->tgid;
		s = bpf_map_lookup_elem(&streams_of, &tgid);
		if (s && s->start_ns == t->start_boottime)
			return s;
		if (tgid <= 1)
			return NULL;
		t = t->real_parent;
	}
	return NULL;
}

/* 1 stdout, 2 stderr: by the process's original files when they differ, else by fd. */
static __always_inline __u32 stream_of(struct task_struct *t, __u32 fd, struct file *f)
{
	struct streams *s = streams_for(t);

	if (s && s->out != s->err) {
		if ((__u64)f == s->err)
			return 2;
		if ((__u64)f == s->out)
			return 1;
	}
	return fd;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(output_exec, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	__u64 start = process_start_ns(p);
	struct streams s, *own, *inherited;

	if (!wanted(tgid))
		return 0;
	s.out = (__u64)file_of(p, 1);
	s.err = (__u64)file_of(p, 2);
	s.start_ns = start;
	/* An exec after an exec: the entry is updated in place. */
	own = bpf_map_lookup_elem(&streams_of, &tgid);
	if (own && own->start_ns == start) {
		own->out = s.out;
		own->err = s.err;
		return 0;
	}
	/* Otherwise an entry only where the files differ from what the ancestors' entries say
	 * (equal files at fd 1 and 2 mean the same as no entry: told by fd). */
	inherited = streams_for(p->real_parent);
	if (inherited ? inherited->out == s.out && inherited->err == s.err
		      : s.out == s.err)
		return 0;
	if (inherited && s.out == s.err && inherited->out == inherited->err)
		return 0;
	bpf_map_update_elem(&streams_of, &tgid, &s, BPF_ANY);
	return 0;
}

/* Sends up to TR_LOG_CHUNK bytes from buf as one record; returns the bytes sent. c is the
 * process's counters (never NULL). */
static __noinline __u32 emit_chunk(__u32 stream, __u64 buf, __u32 len, struct tr_counters *c, __u32 target)
{
	__u32 zero = 0, idx = (stream - 1) & 1;
	struct tr_log *e = bpf_map_lookup_elem(&log_scratch, &zero);
	__u64 dropped;

	if (!e || !len)
		return 0;
	if (len > TR_LOG_CHUNK)
		len = TR_LOG_CHUNK;
	fill_head(&e->h, TR_LOG, bpf_get_current_task_btf());
	e->stream = stream;
	e->target = target;
	e->_pad = 0;
	if (bpf_probe_read_user(e->data, len, (void *)buf))
		return 0;
	e->len = len;
	/* The gap before this chunk: bytes of this stream dropped since its previous chunk. */
	dropped = c->log_dropped[idx];
	e->dropped_bytes = dropped;
	if (bpf_ringbuf_output(&events, e, offsetof(struct tr_log, data) + len, rb_flags())) {
		count_loss(TR_LOSS_RINGBUF, 1);
		return 0;
	}
	if (dropped)
		__sync_fetch_and_add(&c->log_dropped[idx], -dropped);
	return len;
}

/* Captures what the budget allows of one buffer, counts the rest as dropped. */
static __always_inline void capture(__u32 stream, __u64 buf, __u64 count, struct tr_counters *c, __u32 target,
				    __u32 tgid, __u64 now, int *chunks)
{
	__u64 allowed = take_budget(tgid, count, now), sent = 0;
	__u32 n;
	int i;

	for (i = 0; i < MAX_CHUNKS_PER_CALL; i++) {
		if (sent >= allowed || *chunks >= MAX_CHUNKS_PER_CALL)
			break;
		n = emit_chunk(stream, buf + sent, allowed - sent > TR_LOG_CHUNK ? TR_LOG_CHUNK : allowed - sent, c, target);
		if (!n)
			break;
		sent += n;
		(*chunks)++;
	}
	if (count > sent) {
		count_loss(TR_LOSS_LOG_BYTES, count - sent);
		__sync_fetch_and_add(&c->log_dropped[(stream - 1) & 1], count - sent);
	}
}

SEC("tracepoint/syscalls/sys_enter_write")
int enter_write(struct trace_event_raw_sys_enter *ctx)
{
	__u32 fd = ctx->args[0], tgid = bpf_get_current_pid_tgid() >> 32, target, stream;
	struct tr_counters *c;
	struct file *f;
	int chunks = 0;

	/* Filter: stdout or stderr of a process we capture, something to write. */
	if ((fd != 1 && fd != 2) || !ctx->args[2] || !wanted(tgid))
		return 0;
	c = counters_of(tgid);
	if (!c)
		return 0;
	f = file_of(bpf_get_current_task_btf(), fd);
	target = target_of(f);
	stream = stream_of(bpf_get_current_task_btf(), fd, f);
	if (!policy_allows(stream, target, ctx->args[2], c))
		return 0;
	capture(stream, ctx->args[1], ctx->args[2], c, target, tgid, bpf_ktime_get_boot_ns(), &chunks);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	__u32 fd = ctx->args[0], tgid = bpf_get_current_pid_tgid() >> 32, target, stream;
	struct iovec *iov = (struct iovec *)ctx->args[1];
	__u64 cnt = ctx->args[2], now;
	struct tr_counters *c;
	struct file *f;
	struct iovec v;
	int i, chunks = 0;

	if ((fd != 1 && fd != 2) || !cnt || !wanted(tgid))
		return 0;
	c = counters_of(tgid);
	if (!c)
		return 0;
	f = file_of(bpf_get_current_task_btf(), fd);
	target = target_of(f);
	stream = stream_of(bpf_get_current_task_btf(), fd, f);
	now = bpf_ktime_get_boot_ns();
	for (i = 0; i < MAX_IOVECS && i < cnt; i++) {
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		if (!v.iov_len)
			continue;
		/* Skipped bytes are counted per iovec read; past MAX_IOVECS they go uncounted. */
		if (policy_allows(stream, target, v.iov_len, c))
			capture(stream, (__u64)v.iov_base, v.iov_len, c, target, tgid, now, &chunks);
	}
	return 0;
}
