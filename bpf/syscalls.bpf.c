/* bpf/syscalls.bpf.c: two things from the syscall tracepoints.
 *
 * - Failed calls: a call whose sys_exit is negative and whose descriptor says to report
 *   it (file, directory, exec, memory, network calls). Its object comes from the user
 *   registers still in pt_regs at exit (the path, the sockaddr, the fd's file or peer), so
 *   no state is kept between enter and exit for it. Each process has a small table of the
 *   failures it has had: a new one goes out in full (tr_syscall_error), a repeat only counts
 *   (tr_syscall_error_count, at most once per interval and when it ends), so a loop of
 *   100,000 failing opens is one record and a few counts. New failures are rate-limited per
 *   process; what the limit turns away is counted.
 * - Syscalls by class: how often and how long a process's threads sleep inside syscalls of
 *   each class (blocked in fsync, in a socket read, in futex), measured where a thread goes
 *   to sleep inside a syscall (sched_switch; the call's number is in its pt_regs) and where
 *   it is back on a CPU (the next sched_switch: the wait for a CPU once woken counts too, as
 *   the caller waits it). Nothing runs per syscall: a timer around every call (raw sys_enter
 *   + sys_exit) cost 18% on find+tar; this costs a little per context switch.
 *
 * The sleep a thread is in lives in its task storage; its length goes into the process's
 * `counters` when it runs again. sc_desc (rodata, filled by the addon from its arch's syscall
 * numbers) says per call what class it is, where its object is, and whether its failures
 * are reported. */
#include "common.bpf.h"

/* Tunables, set by the loader before load. */
const volatile __u16 sc_desc[TR_SC_NR_MAX] = {};
const volatile __u8 time_classes = 1;			/* sleeps inside syscalls, by class */
const volatile __u32 err_rate_per_sec = 32;		/* new failures reported per process */
const volatile __u32 err_burst = 256;			/* ... back to back (startup probing) */
const volatile __u64 err_report_ns = 1000000000ull;	/* a repeating failure's count, at most */

/* Bumped by user space whenever it adds to `tracked` (seeding): cached verdicts expire. */
volatile __u32 track_epoch = 0;

#define AT_FDCWD -100
#define EINTR 4
#define EAGAIN 11
#define ENOSYS 38
#define EINPROGRESS 115
#define ERESTART_MIN 512	/* ERESTARTSYS and friends: never seen by the process */
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define SOCKADDR_MAX 110	/* sizeof(struct sockaddr_un) */
#define ERR_SLOTS 16

/* The sleep a thread is in, inside a syscall, and whether its process is captured. */
struct sc_task {
	__u8 verdict;		/* 0 unknown, 1 captured, 2 not */
	__u8 _pad[3];
	__u32 epoch;		/* track_epoch the verdict was taken at */
	__u32 blocked_class;	/* class of the syscall it sleeps in */
	__u32 _pad2;
	__u64 blocked_since;	/* 0: not asleep in a syscall */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sc_task);
} sc_tasks SEC(".maps");

/* One failure a process has had: its key and how often. */
struct err_slot {
	__u64 key;
	__u64 count;
	__u64 first_ns;
	__u64 last_ns;
	__u64 reported_ns;	/* when its count last went out */
	__u64 reported_count;	/* ... and what it was */
};

struct err_table {
	__u64 start_ns;		/* the process's start time: a reused pid starts afresh */
	__u64 tat;		/* GCRA token bucket for new failures */
	struct err_slot slot[ERR_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u32);	/* tgid; removed when the process exits */
	__type(value, struct err_table);
} err_tables SEC(".maps");

/* An all-zero table to insert from (never written). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct err_table);
} err_blank SEC(".maps");

/* Where a new failure is assembled, too big for the stack; sent at its used size. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_syscall_error);
} err_scratch SEC(".maps");

/* ---- syscalls by class ------------------------------------------------------------- */

/* The thread's storage when its process is captured (the verdict is cached there). */
static __always_inline struct sc_task *captured_task(struct task_struct *t, bool create)
{
	struct sc_task *s = bpf_task_storage_get(&sc_tasks, t, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	__u32 epoch = track_epoch;

	if (!s)
		return NULL;
	if (!s->verdict || (s->verdict == 2 && s->epoch != epoch)) {
		s->verdict = wanted(t->tgid) ? 1 : 2;
		s->epoch = epoch;
	}
	return s->verdict == 1 ? s : NULL;
}

/* The syscall a sleeping task is in, from its user register frame, or -1 when it sleeps
 * elsewhere (a page fault of user code). */
static __always_inline long sleeping_in(struct task_struct *t)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);

	/* Direct loads (regs is a BTF pointer): this runs for each task going to sleep. */
	if (!regs)
		return -1;
#if defined(__TARGET_ARCH_x86)
	/* Syscall entry stores -ENOSYS in ax until the call returns; exceptions keep user ax
	 * and put an error code in orig_ax, so both must agree. */
	if (regs->ax != (unsigned long)-ENOSYS)
		return -1;
	return regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	return regs->syscallno;	/* NO_SYSCALL (-1) outside syscalls */
#else
	return -1;
#endif
}

/* The thread coming back on CPU after a sleep inside a syscall: the whole time it was away
 * (asleep, then waiting for a CPU once woken) goes to the call's class. */
static __always_inline void back_on_cpu(struct task_struct *next)
{
	struct tr_counters *c;
	struct sc_task *s;
	__u32 cls;

	/* The idle task and kernel threads never get storage (see sc_switch): a load spares
	 * the helper call on the many switches to them. */
	if (next->flags & PF_KTHREAD)
		return;
	s = bpf_task_storage_get(&sc_tasks, next, 0, 0);
	if (!s || !s->blocked_since)
		return;
	cls = s->blocked_class & TR_SC_CLASS_MASK;
	c = counters_of(next->tgid);
	if (c) {
		__sync_fetch_and_add(&c->sc_count[cls], 1);
		__sync_fetch_and_add(&c->sc_ns[cls], bpf_ktime_get_boot_ns() - s->blocked_since);
	}
	s->blocked_since = 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sc_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct sc_task *s;
	long nr;

	back_on_cpu(next);
	/* Then prev: a thread going to sleep (not preempted) inside a syscall, captured. The
	 * cheap tests (loads) come before the task storage, which is created on first use. */
	if (preempt || !task_state(prev) || (prev->flags & PF_KTHREAD))
		return 0;
	nr = sleeping_in(prev);
	if (nr < 0 || nr >= TR_SC_NR_MAX)
		return 0;
	s = captured_task(prev, true);
	if (!s)
		return 0;
	barrier_var(nr);
	s->blocked_class = sc_desc[nr & (TR_SC_NR_MAX - 1)] & TR_SC_CLASS_MASK;
	s->blocked_since = bpf_ktime_get_boot_ns();
	return 0;
}

/* ---- failures ---------------------------------------------------------------------- */

static __always_inline __u64 mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x100000001b3ull;	/* FNV-1a prime, a word at a time */
	return h ^ (h >> 29);
}

/* libbpf 1.1 stops at PT_REGS_PARM5_CORE_SYSCALL. */
static __always_inline __u64 syscall_arg6(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, r9);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ((struct user_pt_regs *)regs, regs[5]);
#endif
}

static __noinline __u64 arg_of(struct pt_regs *regs, int i)
{
	switch (i) {
	case 0: return PT_REGS_PARM1_CORE_SYSCALL(regs);
	case 1: return PT_REGS_PARM2_CORE_SYSCALL(regs);
	case 2: return PT_REGS_PARM3_CORE_SYSCALL(regs);
	case 3: return PT_REGS_PARM4_CORE_SYSCALL(regs);
	case 4: return PT_REGS_PARM5_CORE_SYSCALL(regs);
	default: return syscall_arg6(regs);
	}
}

static __always_inline struct file *fd_file(struct task_struct *t, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds, *f = NULL;

	if (fd < 0 || !fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

#define DATA_MASK (TR_ERR_DATA - 1)

/* Appends the names from path->dentry up to the root of the task's mount namespace, leaf
 * first, each with its NUL, at data[off] (d_path's walk, as process.bpf.c does for exe
 * and cwd). Sets mnt_len at the first mount crossed. Returns the new offset. */
static __noinline __u32 walk_path(struct tr_syscall_error *e, struct dentry *d, struct vfsmount *vm, __u32 off)
{
	struct mount *m = container_of(vm, struct mount, mnt), *mp;
	struct dentry *parent, *mnt_root;
	__u32 start = off;
	long n;
	int i;

	for (i = 0; i < 48; i++) {
		mnt_root = BPF_CORE_READ(vm, mnt_root);
		parent = BPF_CORE_READ(d, d_parent);
		if (d == mnt_root || d == parent) {
			mp = BPF_CORE_READ(m, mnt_parent);
			if (!(e->flags & TR_ERR_MOUNT_KNOWN)) {
				e->flags |= TR_ERR_MOUNT_KNOWN;
				e->mnt_len = off - start;
			}
			if (d != mnt_root || m == mp)
				return off;
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = mp;
			vm = &mp->mnt;
			continue;
		}
		if (off + TR_NAME_MAX > TR_ERR_DATA)
			break;
		n = bpf_probe_read_kernel_str(&e->data[off & DATA_MASK], TR_NAME_MAX, BPF_CORE_READ(d, d_name.name));
		if (n <= 0)
			break;
		off += n;
		d = parent;
	}
	e->flags |= TR_ERR_BASE_TRUNCATED;
	return off;
}

/* The socket's peer as a sockaddr_in/in6 at data[0]; false if f is not an inet socket. */
static __noinline bool peer_of(struct tr_syscall_error *e, struct file *f)
{
	struct socket *sock;
	struct sock *sk;
	__u16 family, port;

	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return false;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	port = BPF_CORE_READ(sk, __sk_common.skc_dport);
	__builtin_memset(e->data, 0, 28);
	*(__u16 *)&e->data[0] = family;
	*(__u16 *)&e->data[2] = port;
	if (family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)&e->data[4], sk, __sk_common.skc_daddr);
		e->path_len = 16;
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO((struct in6_addr *)&e->data[8], sk, __sk_common.skc_v6_daddr);
		e->path_len = 28;
	} else {
		return false;
	}
	e->object = TR_OBJ_PEER;
	return true;
}

/* Which failure this is: a hash of call, errno and object, taking the object into the
 * scratch record as it goes (its details stay unfilled until the failure proves new). */
static __noinline __u64 identify(struct tr_syscall_error *e, struct task_struct *t, struct pt_regs *regs,
				      __u32 kind, struct file **file)
{
	__u64 h = mix(mix(0xcbf29ce484222325ull, e->nr), e->err), addr, w;
	long n;
	int i, at;

	e->object = TR_OBJ_NONE;
	e->fd = -1;
	e->path_len = 0;
	*file = NULL;
	switch (kind) {
	case TR_ARG_PATH0:
	case TR_ARG_PATH1:
	case TR_ARG_AT1:
	case TR_ARG_AT2:
		at = kind == TR_ARG_PATH0 ? 0 : kind == TR_ARG_AT2 ? 2 : 1;
		if (kind == TR_ARG_AT1 || kind == TR_ARG_AT2)
			e->fd = (int)arg_of(regs, at - 1);
		else
			e->fd = AT_FDCWD;
		addr = arg_of(regs, at);
		n = addr ? bpf_probe_read_user_str(e->data, TR_ERR_PATH_MAX, (void *)addr) : 0;
		if (n <= 0)
			break;
		e->object = TR_OBJ_PATH;
		e->path_len = n - 1;
		if (n == TR_ERR_PATH_MAX)
			e->flags |= TR_ERR_PATH_TRUNCATED;
		/* Hash the bytes read, a word at a time; the words past the NUL are masked. */
		for (i = 0; i < TR_ERR_PATH_MAX / 8; i++) {
			if (i * 8 >= n)
				break;
			w = *(__u64 *)&e->data[i * 8];
			if (n - i * 8 < 8)
				w &= (1ull << ((n - i * 8) * 8)) - 1;
			h = mix(h, w);
		}
		return mix(h, (__u64)(__s64)e->fd);
	case TR_ARG_ADDR4:
	case TR_ARG_ADDR1:
		at = kind == TR_ARG_ADDR1 ? 1 : 4;
		addr = arg_of(regs, at);
		n = arg_of(regs, at + 1);
		if (addr && n > 0) {
			if (n > SOCKADDR_MAX)
				n = SOCKADDR_MAX;
			__builtin_memset(e->data, 0, 112);
			if (bpf_probe_read_user(e->data, n & 127, (void *)addr))
				break;
			e->object = TR_OBJ_ADDR;
			e->path_len = n;
			/* Not unrolled: clang's 14 copies of the body spilled 296 bytes, and with
			 * sc_fail's and report_error's frames that passed the 512-byte stack the
			 * three share (6.18.44's verifier refused the program). */
#pragma clang loop unroll(disable)
			for (i = 0; i < 112 / 8; i++)
				h = mix(h, *(__u64 *)&e->data[i * 8]);
			return h;
		}
		if (kind == TR_ARG_ADDR1)
			break;
		/* sendto on a connected socket: its peer, as for any socket fd. */
		kind = TR_ARG_FD0;
		/* fallthrough */
	case TR_ARG_FD0:
	case TR_ARG_FD2:
		e->fd = (int)arg_of(regs, kind == TR_ARG_FD0 ? 0 : 2);
		*file = fd_file(t, e->fd);
		if (!*file)
			return mix(h, (__u64)(__s64)e->fd);
		if (peer_of(e, *file)) {
			for (i = 0; i < 4; i++)
				h = mix(h, *(__u64 *)&e->data[i * 8]);
			return h;
		}
		e->object = TR_OBJ_FILE;
		return mix(h, (__u64)*file);
	}
	return h;
}

/* Whether the process may report one more new failure now (GCRA). */
static __always_inline bool allow_new(struct err_table *tab, __u64 now)
{
	__u64 interval = 1000000000ull / (err_rate_per_sec ? err_rate_per_sec : 1);
	__u64 tat = tab->tat > now ? tab->tat : now;

	if (tat - now > interval * err_burst)
		return false;
	tab->tat = tat + interval;
	return true;
}

static __noinline void emit_count(struct task_struct *t, __u64 start_ns, struct err_slot *s, __u32 final,
				       __u64 now)
{
	struct tr_syscall_error_count *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	__u64 count = s->count;

	if (!r) {
		count_loss(TR_LOSS_RINGBUF, 1);
		return;
	}
	r->h.kind = TR_SYSCALL_ERROR_COUNT;
	r->h.pid = t->tgid;
	r->h.ts_ns = now;
	r->h.start_ns = start_ns;
	r->key = s->key;
	r->count = count;
	r->first_ns = s->first_ns;
	r->last_ns = s->last_ns;
	r->final = final;
	r->_pad = 0;
	bpf_ringbuf_submit(r, rb_flags());
	s->reported_ns = now;
	s->reported_count = count;
}

static __always_inline struct err_table *table_of(__u32 tgid, __u64 start_ns)
{
	struct err_table *tab = bpf_map_lookup_elem(&err_tables, &tgid), *blank;
	__u32 zero = 0;

	if (tab && tab->start_ns == start_ns)
		return tab;
	/* New, or left by an earlier process with this pid: start from a zeroed one. */
	blank = bpf_map_lookup_elem(&err_blank, &zero);
	if (!blank || bpf_map_update_elem(&err_tables, &tgid, blank, BPF_ANY))
		return NULL;
	tab = bpf_map_lookup_elem(&err_tables, &tgid);
	if (tab)
		tab->start_ns = start_ns;
	return tab;
}

static __noinline int report_error(struct task_struct *t, struct pt_regs *regs, __u32 nr, __u32 desc, __u32 err)
{
	__u32 zero = 0, tgid = t->tgid, kind = (desc >> TR_SC_ARG_SHIFT) & TR_SC_ARG_MASK, i, victim = 0, fa;
	__u64 now = bpf_ktime_get_boot_ns(), start_ns = t->group_leader->start_boottime, key, oldest = ~0ull;
	struct tr_syscall_error *e;
	struct err_table *tab;
	struct err_slot *s;
	struct tr_counters *c;
	struct file *file;
	struct fs_struct *fs;
	__u32 off, size;

	e = bpf_map_lookup_elem(&err_scratch, &zero);
	if (!e)
		return 0;
	e->nr = nr;
	e->err = err;
	e->flags = 0;
	key = identify(e, t, regs, kind, &file);

	/* A failure this process has had: count it, and say so once per interval. */
	tab = table_of(tgid, start_ns);
	if (!tab) {
		count_loss(TR_LOSS_SYSCALL_ERRORS, 1);
		return 0;
	}
	for (i = 0; i < ERR_SLOTS; i++) {
		s = &tab->slot[i];
		if (s->count && s->key == key) {
			__sync_fetch_and_add(&s->count, 1);
			s->last_ns = now;
			if (now - s->reported_ns >= err_report_ns)
				emit_count(t, start_ns, s, 0, now);
			return 0;
		}
		if (s->last_ns < oldest) {
			oldest = s->last_ns;
			victim = i;
		}
	}

	/* A new one: within the rate, it takes the emptiest or stalest slot. */
	if (!allow_new(tab, now)) {
		count_loss(TR_LOSS_SYSCALL_ERRORS, 1);
		c = counters_of(tgid);
		if (c)
			__sync_fetch_and_add(&c->errors_suppressed, 1);
		return 0;
	}
	s = &tab->slot[victim & (ERR_SLOTS - 1)];
	if (s->count && s->count != s->reported_count)
		emit_count(t, start_ns, s, 1, now);
	s->key = key;
	s->count = 1;
	s->first_ns = s->last_ns = s->reported_ns = now;
	s->reported_count = 1;

	/* Its details: the open flags, the base directory of a relative path, the fd's file. */
	fill_head(&e->h, TR_SYSCALL_ERROR, t);
	e->h.ts_ns = now;
	e->key = key;
	e->base_len = 0;
	e->mnt_len = 0;
	e->_pad = 0;
	e->open_flags = 0;
	fa = (desc >> TR_SC_OPEN_FLAGS_SHIFT) & TR_SC_OPEN_FLAGS_MASK;
	if (desc & TR_SC_OPENAT2) {
		__u64 how = 0;

		bpf_probe_read_user(&how, sizeof(how), (void *)arg_of(regs, 2));
		e->open_flags = how;
	} else if (fa) {
		e->open_flags = arg_of(regs, fa - 1);
	}
	off = 0;
	if (e->object == TR_OBJ_PATH) {
		off = (e->path_len + 1) & DATA_MASK;
		if (e->data[0] != '/') {
			if (e->fd == AT_FDCWD) {
				fs = t->fs;
				if (fs)
					off = walk_path(e, BPF_CORE_READ(fs, pwd.dentry), BPF_CORE_READ(fs, pwd.mnt), off);
			} else {
				file = fd_file(t, e->fd);
				if (file)
					off = walk_path(e, BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt), off);
			}
		}
		e->base_len = off - ((e->path_len + 1) & DATA_MASK);
	} else if (e->object == TR_OBJ_FILE && file) {
		off = walk_path(e, BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt), 0);
		e->base_len = off;
	} else if (e->object == TR_OBJ_ADDR || e->object == TR_OBJ_PEER) {
		off = e->path_len;
	}
	size = off;
	if (size > TR_ERR_DATA)
		size = TR_ERR_DATA;
	if (bpf_ringbuf_output(&events, e, offsetof(struct tr_syscall_error, data) + size, rb_flags()))
		count_loss(TR_LOSS_RINGBUF, 1);
	return 0;
}

/* Attached by the loader to syscalls:sys_exit_<call> of each call whose failures are
 * reported (the section names one; the others are added at attach), never to the raw
 * sys_exit: a program there runs on every syscall of the host, and its dispatch alone cost
 * 4-6% on a stat-heavy find+tar. Here calls nobody asked about cost a bit test in the
 * kernel's syscall event code. */
SEC("tracepoint/syscalls/sys_exit_openat")
int sc_fail(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *t;
	struct pt_regs *regs;
	long ret = ctx->ret;
	__u32 nr, desc, err;

	if (ret >= 0)
		return 0;
	nr = ctx->id;
	if (nr >= TR_SC_NR_MAX)
		return 0;
	barrier_var(nr);	/* index with the checked register, not a copy taken before */
	desc = sc_desc[nr & (TR_SC_NR_MAX - 1)];
	err = -ret;
	/* Negative results of described calls, less the ones that are not failures. */
	if (!(desc & TR_SC_REPORT) || err >= ERESTART_MIN || err == EINTR || err == EINPROGRESS ||
	    (err == EAGAIN && !(desc & TR_SC_EAGAIN)))
		return 0;
	t = bpf_get_current_task_btf();
	if (!wanted(t->tgid))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!regs)
		return 0;
	return report_error(t, regs, nr, desc, err);
}

/* ---- exits --------------------------------------------------------------------------- */

/* When the group ends: the counts of its repeating failures not yet sent, before
 * process.bpf.c sends the exit record. */
static __always_inline void thread_exit(struct task_struct *t, bool group_dead)
{
	__u32 tgid = t->tgid, i;
	struct err_table *tab;
	__u64 now;

	if (!group_dead)
		return;
	tab = bpf_map_lookup_elem(&err_tables, &tgid);
	if (!tab)
		return;
	now = bpf_ktime_get_boot_ns();
	for (i = 0; i < ERR_SLOTS; i++) {
		if (tab->slot[i].count && tab->slot[i].count != tab->slot[i].reported_count)
			emit_count(t, tab->start_ns, &tab->slot[i], 1, now);
	}
	bpf_map_delete_elem(&err_tables, &tgid);
}

/* Since 6.16 the tracepoint says whether this thread ended its group; the loader picks this
 * program or the next from the tracepoint's BTF prototype (as for process.bpf.c). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sc_thread_exit, struct task_struct *p, bool group_dead)
{
	thread_exit(bpf_get_current_task_btf(), group_dead);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sc_thread_exit_live, struct task_struct *p)
{
	struct task_struct *t = bpf_get_current_task_btf();

	thread_exit(t, t->signal->live.counter == 0);
	return 0;
}
