/* bpf/oom.bpf.c: OOM kills, named by the victim the kernel chose (oc->chosen), not by
 * `current`, which is whichever task happened to hit the limit. */
#include "common.bpf.h"

/* Kernels before 6.2 keep mm counters in struct mm_rss_stat, not percpu counters. */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* get_mm_rss(): file + anon + shmem pages, the same approximate sum the kernel's own OOM
 * report prints (per-CPU deltas not folded in). */
static __always_inline __u64 mm_rss_pages(struct mm_struct *mm)
{
	__s64 n = 0;

	if (!mm)
		return 0;
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;

		n += BPF_CORE_READ(old, rss_stat.count[0].counter);
		n += BPF_CORE_READ(old, rss_stat.count[1].counter);
		n += BPF_CORE_READ(old, rss_stat.count[3].counter);
	} else {
		n += BPF_CORE_READ(mm, rss_stat[0].count);	/* MM_FILEPAGES */
		n += BPF_CORE_READ(mm, rss_stat[1].count);	/* MM_ANONPAGES */
		n += BPF_CORE_READ(mm, rss_stat[3].count);	/* MM_SHMEMPAGES */
	}
	return n > 0 ? n : 0;
}

/* Tunables, set by the loader before load. */
const volatile __u8 victim_tp = 1;	/* mark_victim passes the task (the loader checks) */

/* What oom_kill_process knew (oc), for the mark_victim that follows in the same task. */
struct oom_info {
	__u64 ts_ns;
	__u32 constraint;
	__u32 _pad;
	__u64 cgroup_id;
	__u64 limit_pages;
	__u64 usage_pages;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);	/* tid of the task running the OOM killer */
	__type(value, struct oom_info);
} oom_ctx SEC(".maps");

#define PAGE_COUNTER_UNLIMITED (1ull << 50)	/* PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE */

static __always_inline void from_oc(struct oom_info *i, struct oom_control *oc)
{
	struct mem_cgroup *memcg = BPF_CORE_READ(oc, memcg);
	int c = BPF_CORE_READ(oc, constraint);

	i->ts_ns = bpf_ktime_get_boot_ns();
	if (memcg) {
		/* A memcg OOM: the cgroup's own limit and charge, not the host's. */
		i->constraint = TR_OOM_MEMCG;
		i->cgroup_id = BPF_CORE_READ(memcg, css.cgroup, kn, id);
		i->limit_pages = BPF_CORE_READ(memcg, memory.max);
		i->usage_pages = BPF_CORE_READ(memcg, memory.usage.counter);
		return;
	}
	if (c == bpf_core_enum_value(enum oom_constraint, CONSTRAINT_CPUSET))
		i->constraint = TR_OOM_CPUSET;
	else if (c == bpf_core_enum_value(enum oom_constraint, CONSTRAINT_MEMORY_POLICY))
		i->constraint = TR_OOM_MEMPOLICY;
	else
		i->constraint = TR_OOM_GLOBAL;
	i->cgroup_id = 0;
	i->limit_pages = BPF_CORE_READ(oc, totalpages);
	i->usage_pages = 0;
}

/* Without oc (no trampolines on this kernel): the OOM memcg is the nearest one, from the
 * victim's up, whose charge has reached its limit; the victim was chosen inside it. None
 * means a global OOM (cpuset and mempolicy OOMs cannot be told apart from it here). */
static __always_inline void from_memcg_chain(struct oom_info *i, struct task_struct *victim)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css = BPF_CORE_READ(victim, cgroups, subsys[id]);
	struct mem_cgroup *m;
	__u64 max, usage;
	int k;

	i->ts_ns = bpf_ktime_get_boot_ns();
	i->constraint = TR_OOM_GLOBAL;
	i->cgroup_id = i->limit_pages = i->usage_pages = 0;
	for (k = 0; k < 8 && css; k++) {
		m = container_of(css, struct mem_cgroup, css);
		max = BPF_CORE_READ(m, memory.max);
		usage = BPF_CORE_READ(m, memory.usage.counter);
		/* Reclaim gave up within a few pages of the limit: allow 1/32 of it + 1 MiB. */
		if (max < PAGE_COUNTER_UNLIMITED && usage + max / 32 + 256 >= max) {
			i->constraint = TR_OOM_MEMCG;
			i->cgroup_id = BPF_CORE_READ(css, cgroup, kn, id);
			i->limit_pages = max;
			i->usage_pages = usage;
			return;
		}
		css = BPF_CORE_READ(css, parent);
	}
}

static __always_inline int emit(struct task_struct *victim, struct oom_info *i)
{
	struct tr_oom *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_loss(TR_LOSS_RINGBUF, 1);
		return 0;
	}
	fill_head(&e->h, TR_OOM, victim);
	e->trigger_pid = bpf_get_current_pid_tgid() >> 32;
	e->constraint = i->constraint;
	e->cgroup_id = i->cgroup_id;
	e->limit_pages = i->limit_pages;
	e->usage_pages = i->usage_pages;
	e->victim_rss_pages = mm_rss_pages(BPF_CORE_READ(victim, mm));
	BPF_CORE_READ_STR_INTO(&e->comm, victim, comm);
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

/* The kill decision, with the victim in oc->chosen. Where mark_victim carries the task it
 * reports (it also sees each member of an oom.group kill); this only leaves oc's facts. */
SEC("fentry/oom_kill_process")
int BPF_PROG(handle_oom_kill, struct oom_control *oc, const char *message)
{
	struct task_struct *victim = BPF_CORE_READ(oc, chosen);
	struct oom_info i = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!victim)
		return 0;
	from_oc(&i, oc);
	if (!victim_tp)
		return wanted(BPF_CORE_READ(victim, tgid)) ? emit(victim, &i) : 0;
	bpf_map_update_elem(&oom_ctx, &tid, &i, BPF_ANY);
	return 0;
}

/* mark_oom_victim: fires in the killer's context, so the victim is the tracepoint's task,
 * never `current`. */
SEC("tp_btf/mark_victim")
int BPF_PROG(handle_mark_victim, struct task_struct *victim, uid_t uid)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct oom_info *known, guess;

	/* Filter: only victims we capture. */
	if (!wanted(BPF_CORE_READ(victim, tgid)))
		return 0;
	known = bpf_map_lookup_elem(&oom_ctx, &tid);
	if (known && bpf_ktime_get_boot_ns() - known->ts_ns < 1000000000ull)
		return emit(victim, known);
	from_memcg_chain(&guess, victim);
	return emit(victim, &guess);
}
