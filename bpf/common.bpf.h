/* bpf/common.bpf.h: what every program shares: one ring buffer, one loss counter, the
 * descendant filter and the per-process counters. Each object defines these maps, but the
 * loader creates them once (with process.bpf.c) and hands the same fds to the other objects
 * through bpf_map__reuse_fd before they load. One object per concern keeps each verifier
 * log and each failure about one concern, and lets an optional concern (net, file opens)
 * be missing on a kernel without degrading process capture. */
#ifndef TRACER_COMMON_BPF_H
#define TRACER_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "events.h"

char LICENSE[] SEC("license") = "GPL";

/* Task states and flags (include/linux/sched.h): macros, so absent from BTF. */
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_DEAD 0x0080
#define TASK_NOLOAD 0x0400
#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000
#define SIGNAL_GROUP_EXIT 0x00000004

/* Kernels before 5.14 call the task state `state`. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* t must be a BTF pointer (a tp_btf argument, bpf_get_current_task_btf()): a direct load,
 * no helper call, for the filters that run on every context switch. */
static __always_inline unsigned int task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___pre514 *)t)->state;
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* the loader sets the real size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TR_LOSS_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

/* Descendants of root_tgid; unused when the whole host is captured. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);	/* tgid */
	__type(value, __u8);
} tracked SEC(".maps");

/* LRU: an entry whose process exit we never saw (started before us, raced) ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);	/* per-CPU LRU lists: no global lock on insert */
	__uint(max_entries, 65536);
	__type(key, __u32);	/* tgid */
	__type(value, struct tr_counters);
} counters SEC(".maps");

/* Tunables, set by the loader before load. */
const volatile __u32 root_tgid = 0;	/* capture only its descendants; 0: the whole host */
const volatile __u32 self_tgid = 0;	/* the agent: never captured, so it cannot feed itself */
/* Wake the reader only once this much is waiting (0: on every record). A wake-up per record
 * costs the reader a context switch per record; batching them is most of the agent's
 * overhead saved. The reader also drains on a timer, so nothing waits long. */
const volatile __u64 wakeup_bytes = 0;

static __always_inline __u64 rb_flags(void)
{
	if (!wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									    : BPF_RB_NO_WAKEUP;
}

static __always_inline void count_loss(__u32 slot, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&losses, &slot);

	if (v)
		__sync_fetch_and_add(v, n);	/* per-CPU, but an interrupt may nest */
}

/* The filter every handler runs first. */
static __always_inline bool wanted(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (!root_tgid)
		return true;
	return bpf_map_lookup_elem(&tracked, &tgid) != NULL;
}

static __always_inline struct tr_counters *counters_of(__u32 tgid)
{
	struct tr_counters *c = bpf_map_lookup_elem(&counters, &tgid);
	struct tr_counters zero = {};

	if (c)
		return c;
	bpf_map_update_elem(&counters, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&counters, &tgid);
}

/* t must be a BTF pointer (direct loads, no helper calls). */
static __always_inline __u64 process_start_ns(struct task_struct *t)
{
	return t->group_leader->start_boottime;
}

static __always_inline void fill_head(struct tr_head *h, __u32 kind, struct task_struct *t)
{
	h->kind = kind;
	h->pid = t->tgid;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->start_ns = process_start_ns(t);
}

#endif /* TRACER_COMMON_BPF_H */
