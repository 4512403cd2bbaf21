/* bpf/process.bpf.c: process lifecycle (fork, exec, exit) and the descendant filter.
 * The loader loads this object first: it owns the shared maps of common.bpf.h. */
#include "common.bpf.h"

/* Scratch for tr_exec, too big for the 512-byte stack; it goes out with
 * bpf_ringbuf_output at its used size, so a short command line costs a few hundred bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_exec);
} exec_scratch SEC(".maps");

/* Where the rest of an over-long argument is read, only to find where it ends. */
struct skip_buf {
	char b[4096];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skip_buf);
} skip_scratch SEC(".maps");

/* The thread that ended its thread group, until its final context switch. */
struct dying_thread {
	__u32 tid;
	__u32 _pad;
	__u64 exit_ns;
	__u64 exec_maxrss_pages;	/* the mm's RSS peak at sched_process_exit (6.16+) */
};

/* Since 6.16 (group_dead exact): a slot by tid in an array, claimed with a compare-and-swap
 * on tid. An array lookup is inlined by the verifier, where a hash update took as long as the
 * rest of the exit path; the hash below takes only a thread whose slot is busy. */
#define DYING_SLOTS 16384

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DYING_SLOTS);
	__type(key, __u32);	/* tid & (DYING_SLOTS - 1) */
	__type(value, struct dying_thread);
} dying_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);	/* tgid */
	__type(value, struct dying_thread);
} dying SEC(".maps");

/* Kernels before 6.16 only: the RSS peak of the image the process runs since its last exec
 * (signal->maxrss also holds the images before exec: the parent's, when it forked), taken
 * in exit_mm (handle_mm_exit), as sched_process_exit fires after the mm is gone there; a
 * tgid's threads share one mm, so the largest reading stands. Since 6.16 sched_process_exit
 * fires before exit_mm and the peak travels in `dying` instead. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);	/* tgid */
	__type(value, __u64);	/* pages */
} exec_hiwater SEC(".maps");

/* Tunables, set by the loader before load. */
const volatile __u8 cgroup_v1_memory = 0;	/* cgroupId = the v1 memory cgroup's id */
const volatile __u8 exit_sees_mm = 0;		/* 6.16+: sched_process_exit runs before exit_mm */

static __always_inline __u64 task_cgroup_id(struct task_struct *t)
{
	if (cgroup_v1_memory && bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
		int i = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
		struct cgroup_subsys_state *css = BPF_CORE_READ(t, cgroups, subsys[i]);

		return BPF_CORE_READ(css, cgroup, kn, id);
	}
	return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

#define DATA_MASK (TR_EXEC_DATA - 1)
#define TRUNCATED_BIT 0x80000000u

/* Past the end of the over-long argument at `pos`: the address after its NUL, 0 if
 * unreadable or longer than 64 KiB. A global function: the verifier checks it once. */
__noinline __u64 skip_arg(__u64 pos)
{
	__u32 zero = 0;
	struct skip_buf *s = bpf_map_lookup_elem(&skip_scratch, &zero);
	long n;
	char c;
	int i;

	if (!s)
		return 0;
	for (i = 0; i < 16; i++) {
		n = bpf_probe_read_user_str(s->b, sizeof(s->b), (void *)pos);
		if (n <= 0)
			return 0;
		pos += n;
		/* A full buffer ends the string only when the byte it stopped on was its NUL. */
		if (n < (long)sizeof(s->b) ||
		    (!bpf_probe_read_user(&c, 1, (void *)(pos - 1)) && c == 0))
			return pos;
		pos -= 1;
	}
	return 0;
}

/* Copies argv from the new image's stack (mm->arg_start..arg_end) into the exec scratch:
 * at most TR_ARGV_MAX_ARGS arguments of TR_ARG_MAX bytes with their NULs. Returns the bytes
 * written, TRUNCATED_BIT set when anything was left out. */
__noinline __u32 read_argv(__u64 pos, __u64 end)
{
	__u32 zero = 0, off = 0, cut = 0;
	struct tr_exec *e = bpf_map_lookup_elem(&exec_scratch, &zero);
	long n;
	char c;
	int i;

	if (!e)
		return 0;
	for (i = 0; i < TR_ARGV_MAX_ARGS; i++) {
		if (pos >= end)
			return off;
		n = bpf_probe_read_user_str(&e->data[off & DATA_MASK], TR_ARG_MAX, (void *)pos);
		if (n <= 0)
			return off | TRUNCATED_BIT;
		off += n;
		pos += n;
		/* n == TR_ARG_MAX: cut at 255 bytes unless the 256th byte really is its NUL. */
		if (n == TR_ARG_MAX && (bpf_probe_read_user(&c, 1, (void *)(pos - 1)) || c != 0)) {
			cut = TRUNCATED_BIT;
			pos = skip_arg(pos - 1);
			if (!pos)
				return off | cut;
		}
	}
	if (pos < end)
		cut = TRUNCATED_BIT;
	return off | cut;
}

/* Appends the names from path->dentry up to the root, leaf first, each with its NUL, at
 * data[off], writing nothing past off + TR_PATH_MAX; user space reverses and joins them.
 * Mount points are crossed the way d_path does (mnt_root -> mnt_mountpoint in the parent
 * mount), to the root of the task's mount namespace. Returns the new offset, with
 * TRUNCATED_BIT when the walk stopped early. */
__noinline __u32 append_path(__u64 path_addr, __u32 off)
{
	struct path *path = (struct path *)path_addr;
	__u32 zero = 0, limit = off + TR_PATH_MAX;
	struct tr_exec *e = bpf_map_lookup_elem(&exec_scratch, &zero);
	struct dentry *d, *parent, *mnt_root;
	struct mount *m, *mp;
	struct vfsmount *vm;
	const unsigned char *name;
	long n;
	int i;

	if (!e || !path)
		return off;
	d = BPF_CORE_READ(path, dentry);
	vm = BPF_CORE_READ(path, mnt);
	m = container_of(vm, struct mount, mnt);
	for (i = 0; i < 64; i++) {
		mnt_root = BPF_CORE_READ(vm, mnt_root);
		parent = BPF_CORE_READ(d, d_parent);
		if (d == mnt_root || d == parent) {
			mp = BPF_CORE_READ(m, mnt_parent);
			/* The root of a mount that has no parent mount: done. */
			if (d != mnt_root || m == mp)
				return off;
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = mp;
			vm = &mp->mnt;
			continue;
		}
		if (off + TR_NAME_MAX > limit)
			break;
		name = BPF_CORE_READ(d, d_name.name);
		n = bpf_probe_read_kernel_str(&e->data[off & DATA_MASK], TR_NAME_MAX, name);
		if (n <= 0)
			break;
		off += n;
		d = parent;
	}
	return off | TRUNCATED_BIT;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = child->tgid, ptgid = parent->tgid;
	struct task_struct *rp;
	struct tr_fork *e;
	__u8 one = 1;

	/* A new thread is not a new process, and kernel threads run no pipeline. */
	if (child->pid != tgid || (child->flags & PF_KTHREAD))
		return 0;
	/* Descendant filter: a child of the root or of a tracked process is tracked. */
	if (root_tgid) {
		if (ptgid != root_tgid && !bpf_map_lookup_elem(&tracked, &ptgid))
			return 0;
		if (bpf_map_update_elem(&tracked, &tgid, &one, BPF_ANY))
			count_loss(TR_LOSS_TRACKED_FULL, 1);
	}
	/* Reserve, fill, submit; a full ring buffer is counted, never silent. */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(TR_LOSS_RINGBUF, 1);
		return 0;
	}
	fill_head(&e->h, TR_FORK, child);
	rp = child->real_parent;
	e->ppid = rp->tgid;
	e->_pad = 0;
	e->parent_start_ns = process_start_ns(rp);
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0, off, r, size, tgid = p->tgid;
	struct task_struct *rp;
	struct tr_exec *e;
	struct file *exe;
	struct fs_struct *fs;

	if (!wanted(tgid))
		return 0;
	/* de_thread's killed threads went through exit_mm with the old image: not this one's. */
	if (!exit_sees_mm)
		bpf_map_delete_elem(&exec_hiwater, &tgid);
	e = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!e)
		return 0;
	/* Identity, parent, owner, cgroup. */
	fill_head(&e->h, TR_EXEC, p);
	rp = p->real_parent;
	e->ppid = rp->tgid;
	e->parent_start_ns = process_start_ns(rp);
	e->uid = p->cred->uid.val;
	e->cgroup_id = task_cgroup_id(p);
	e->argc = bprm->argc;
	e->flags = 0;
	e->_pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* argv from the new stack, then the executable's path, then the working directory. */
	r = read_argv(p->mm->arg_start, p->mm->arg_end);
	if (r & TRUNCATED_BIT)
		e->flags |= TR_EXEC_ARGV_TRUNCATED;
	off = r & ~TRUNCATED_BIT;
	e->argv_len = off;
	exe = BPF_CORE_READ(p, mm, exe_file);	/* a scalar: append_path is a global function */
	r = exe ? append_path((__u64)&exe->f_path, off) : off;
	if (r & TRUNCATED_BIT)
		e->flags |= TR_EXEC_EXE_TRUNCATED;
	e->exe_len = (r & ~TRUNCATED_BIT) - off;
	off = r & ~TRUNCATED_BIT;
	fs = BPF_CORE_READ(p, fs);
	r = fs ? append_path((__u64)&fs->pwd, off) : off;
	if (r & TRUNCATED_BIT)
		e->flags |= TR_EXEC_CWD_TRUNCATED;
	e->cwd_len = (r & ~TRUNCATED_BIT) - off;
	off = r & ~TRUNCATED_BIT;
	/* Send only what was filled. */
	size = off;
	if (size > TR_EXEC_DATA)
		size = TR_EXEC_DATA;
	if (bpf_ringbuf_output(&events, e, offsetof(struct tr_exec, data) + size, rb_flags()))
		count_loss(TR_LOSS_RINGBUF, 1);
	return 0;
}

/* get_mm_hiwater_rss: hiwater_rss is only raised when RSS is about to fall, so the peak is
 * the larger of it and the RSS now (the approximate counters, as the kernel's maxrss reads). */
static __always_inline __u64 mm_peak_pages(struct mm_struct *mm)
{
	__u64 pages = mm->hiwater_rss, rss = 0;
	__u32 i;

	for (i = 0; i < 4; i++) {
		__s64 n = mm->rss_stat[i].count;

		if (n > 0)
			rss += n;
	}
	return rss > pages ? rss : pages;
}

static __always_inline void mark_dying(struct task_struct *p, __u64 exec_maxrss_pages)
{
	struct dying_thread d = {}, *slot;
	__u32 tgid = p->tgid, idx;

	if ((p->flags & PF_KTHREAD) || !wanted(tgid))
		return;
	d.tid = p->pid;
	d.exit_ns = bpf_ktime_get_boot_ns();
	d.exec_maxrss_pages = exec_maxrss_pages;
	/* Before 6.16 two threads may both take themselves for the last: the hash keeps one. */
	if (exit_sees_mm) {
		idx = d.tid & (DYING_SLOTS - 1);
		slot = bpf_map_lookup_elem(&dying_slots, &idx);
		if (slot && __sync_val_compare_and_swap(&slot->tid, 0, d.tid) == 0) {
			slot->exit_ns = d.exit_ns;
			slot->exec_maxrss_pages = d.exec_maxrss_pages;
			return;
		}
	}
	bpf_map_update_elem(&dying, &tgid, &d, BPF_NOEXIST);
}

/* The dying record of prev, taken out of its slot or the hash; false if prev did not end a
 * captured group. */
static __always_inline bool take_dying(struct task_struct *prev, __u32 tgid, struct dying_thread *out)
{
	__u32 tid = prev->pid, idx = tid & (DYING_SLOTS - 1);
	struct dying_thread *d = bpf_map_lookup_elem(&dying_slots, &idx);

	if (d && d->tid == tid) {
		*out = *d;
		d->tid = 0;	/* free the slot once it is read (only its owner frees it) */
		return true;
	}
	d = bpf_map_lookup_elem(&dying, &tgid);
	if (!d || d->tid != tid)
		return false;
	*out = *d;
	bpf_map_delete_elem(&dying, &tgid);
	return true;
}

/* Since 6.16 the tracepoint says whether this thread ended its group (signal->live hit 0),
 * and fires before exit_mm: the mm the process exec'd is still current->mm, and no thread of
 * the group can raise its RSS any more, so its peak is read here, once per process, exactly
 * as do_exit has just read it into signal->maxrss (setmax_mm_hiwater_rss under group_dead).
 * The loader picks this program or the next from the tracepoint's BTF prototype. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p, bool group_dead)
{
	struct mm_struct *mm;

	if (!group_dead)
		return 0;
	mm = p->mm;
	mark_dying(p, exit_sees_mm && mm ? mm_peak_pages(mm) : 0);
	return 0;
}

/* exit_mm takes mmap_lock once (to sync with a core dump) while current->mm is still the
 * mm: the only mmap_lock taken by a PF_EXITING task on its own mm. Every other caller
 * (page faults, mmap) pays one flags test. */
SEC("tp_btf/mmap_lock_start_locking")
int BPF_PROG(handle_mm_exit, struct mm_struct *mm, bool write)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 pages, *old;
	__u32 tgid;

	/* Direct loads through the trusted current task: no probe-read helper on the hot path. */
	if (!(t->flags & PF_EXITING) || t->mm != mm)
		return 0;
	tgid = t->tgid;
	if (!wanted(tgid))
		return 0;
	pages = mm_peak_pages(mm);
	old = bpf_map_lookup_elem(&exec_hiwater, &tgid);
	if (old && *old >= pages)
		return 0;
	bpf_map_update_elem(&exec_hiwater, &tgid, &pages, BPF_ANY);
	return 0;
}

/* Older kernels: live is already decremented when the tracepoint fires, so two threads
 * exiting together may both see 0; BPF_NOEXIST keeps the first. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_live, struct task_struct *p)
{
	if (p->signal->live.counter == 0)
		mark_dying(p, 0);
	return 0;
}

#define DIRECT_READ(t, field) ((t)->field)

/* One thread's own figures added to the exit record, read with READ(t, field). */
#define ADD_THREAD(e, t, READ)                                                  \
	do {                                                                    \
		(e)->sum_exec_ns += READ(t, se.sum_exec_runtime);               \
		(e)->utime_ns += READ(t, utime);                                \
		(e)->stime_ns += READ(t, stime);                                \
		(e)->rchar += READ(t, ioac.rchar);                              \
		(e)->wchar += READ(t, ioac.wchar);                              \
		(e)->syscr += READ(t, ioac.syscr);                              \
		(e)->syscw += READ(t, ioac.syscw);                              \
		(e)->read_bytes += READ(t, ioac.read_bytes);                    \
		(e)->write_bytes += READ(t, ioac.write_bytes);                  \
		(e)->cancelled_write_bytes += READ(t, ioac.cancelled_write_bytes); \
		(e)->nvcsw += READ(t, nvcsw);                                   \
		(e)->nivcsw += READ(t, nivcsw);                                 \
	} while (0)

/* Every figure of the group: signal->X (threads already reaped) plus X of each thread still
 * listed (the zombie leader, the dying thread), as thread_group_cputime and getrusage do. */
static __always_inline void sum_group(struct tr_exit *e, struct signal_struct *sig, struct task_struct *self)
{
	struct list_head *head, *pos;
	struct task_struct *t;
	__u32 i;

	/* Threads already reaped (direct loads: the exit path runs once per process, but every
	 * helper call here is paid by each short tool)... */
	e->sum_exec_ns = sig->sum_sched_runtime;
	e->utime_ns = sig->utime;
	e->stime_ns = sig->stime;
	e->prev_utime_ns = sig->prev_cputime.utime;
	e->prev_stime_ns = sig->prev_cputime.stime;
	e->rchar = sig->ioac.rchar;
	e->wchar = sig->ioac.wchar;
	e->syscr = sig->ioac.syscr;
	e->syscw = sig->ioac.syscw;
	e->read_bytes = sig->ioac.read_bytes;
	e->write_bytes = sig->ioac.write_bytes;
	e->cancelled_write_bytes = sig->ioac.cancelled_write_bytes;
	e->nvcsw = sig->nvcsw;
	e->nivcsw = sig->nivcsw;
	/* ...plus every thread still on the list. */
	head = &sig->thread_head;
	pos = BPF_CORE_READ(head, next);
	for (i = 0; i < TR_EXIT_THREADS_MAX; i++) {
		if (pos == head || !pos)
			break;
		t = container_of(pos, struct task_struct, thread_node);
		/* The dying thread itself (a single-threaded tool's only one): direct loads. */
		if (t == self)
			ADD_THREAD(e, self, DIRECT_READ);
		else
			ADD_THREAD(e, t, BPF_CORE_READ);
		pos = BPF_CORE_READ(pos, next);
	}
	e->threads = i;
}

/* The dying thread's final switch (do_task_dead): exit_mm and the rest of do_exit have run
 * and been charged, so its CPU time, RSS peak and I/O are final, exactly what the parent's
 * wait4 will read. */
SEC("tp_btf/sched_switch")
int BPF_PROG(handle_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tgid, i, seq;
	struct dying_thread d;
	struct signal_struct *sig;
	struct tr_counters *c = NULL;
	struct tr_exit *e;
	__u64 exit_ns, exec_maxrss, *hw;

	/* Filter: only the final switch of a thread that ended a tracked group. */
	if (task_state(prev) != TASK_DEAD)
		return 0;
	tgid = prev->tgid;
	if (!take_dying(prev, tgid, &d))
		return 0;
	exit_ns = d.exit_ns;
	exec_maxrss = d.exec_maxrss_pages;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(TR_LOSS_RINGBUF, 1);
		goto forget;
	}
	fill_head(&e->h, TR_EXIT, prev);
	e->exit_ns = exit_ns;
	sig = prev->signal;
	/* The status wait4 reports (wait_task_zombie). */
	if (sig->flags & SIGNAL_GROUP_EXIT)
		e->exit_status = sig->group_exit_code;
	else
		e->exit_status = prev->group_leader->exit_code;
	e->maxrss_pages = sig->maxrss;
	if (!exit_sees_mm) {
		hw = bpf_map_lookup_elem(&exec_hiwater, &tgid);
		exec_maxrss = hw ? *hw : 0;
	}
	e->exec_maxrss_pages = exec_maxrss;
	/* The parent may be reaping this process on another CPU right now: __exit_signal adds
	 * the thread's figures to signal and unlinks it under stats_lock, so a read between the
	 * two counts it twice or not at all. Read again while the seqcount moved. */
	for (i = 0; i < 4; i++) {
		seq = sig->stats_lock.seqcount.seqcount.sequence;
		sum_group(e, sig, prev);
		/* Odd: a writer was inside (its update is a few stores, so a retry sees it done). */
		if (!(seq & 1) && sig->stats_lock.seqcount.seqcount.sequence == seq)
			break;
	}
	/* What the other programs counted for this process. */
	c = bpf_map_lookup_elem(&counters, &tgid);
	e->io_wait_ns = c ? c->io_wait_ns : 0;
	e->net_send_bytes = c ? c->net_send_bytes : 0;
	e->net_recv_bytes = c ? c->net_recv_bytes : 0;
	e->opens_suppressed = c ? c->opens_suppressed : 0;
	e->log_dropped[0] = c ? c->log_dropped[0] : 0;
	e->log_dropped[1] = c ? c->log_dropped[1] : 0;
	e->log_skipped = c ? c->log_skipped : 0;
	e->errors_suppressed = c ? c->errors_suppressed : 0;
	for (i = 0; i < TR_SC_CLASSES; i++) {
		e->sc_count[i] = c ? c->sc_count[i] : 0;
		e->sc_ns[i] = c ? c->sc_ns[i] : 0;
	}
	BPF_CORE_READ_STR_INTO(&e->comm, prev, comm);
	bpf_ringbuf_submit(e, rb_flags());
forget:
	/* A short tool often has no counters entry: no delete (a bucket lock) for it. */
	if (c || !e)
		bpf_map_delete_elem(&counters, &tgid);
	if (!exit_sees_mm)
		bpf_map_delete_elem(&exec_hiwater, &tgid);
	if (root_tgid)
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}
