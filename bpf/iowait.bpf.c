/* bpf/iowait.bpf.c: per-process I/O wait, the time its threads spend blocked in
 * uninterruptible sleep with in_iowait set (io_schedule: block I/O, page-cache reads),
 * from going to sleep (sched_switch) to being woken (sched_wakeup). */
#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);	/* tid */
	__type(value, __u64);	/* boot ns when it blocked */
} blocked_since SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(iowait_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	unsigned int state;
	__u32 tid;
	__u64 now;

	/* Filter: a task going to sleep (not preempted) uninterruptibly, for I/O, tracked. */
	if (preempt)
		return 0;
	state = task_state(prev);
	if (!(state & TASK_UNINTERRUPTIBLE) || (state & TASK_NOLOAD))
		return 0;
	if (!BPF_CORE_READ_BITFIELD(prev, in_iowait))
		return 0;
	if (!wanted(prev->tgid))
		return 0;
	tid = prev->pid;
	now = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&blocked_since, &tid, &now, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(iowait_wakeup, struct task_struct *t)
{
	struct tr_counters *c;
	__u64 delta, *since;
	__u32 tid;

	/* Filter: in_iowait is still set at wakeup (io_schedule_finish clears it once the task
	 * runs), so every other wakeup in the system returns before the map lookup. */
	if (!BPF_CORE_READ_BITFIELD(t, in_iowait))
		return 0;
	tid = t->pid;
	since = bpf_map_lookup_elem(&blocked_since, &tid);
	if (!since)
		return 0;
	delta = bpf_ktime_get_boot_ns() - *since;
	bpf_map_delete_elem(&blocked_since, &tid);
	c = counters_of(t->tgid);
	if (c)
		__sync_fetch_and_add(&c->io_wait_ns, delta);
	return 0;
}
