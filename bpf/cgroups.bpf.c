/* bpf/cgroups.bpf.c: cgroups created and removed, in the hierarchy exec records take their
 * cgroup_id from, so user space can keep an id -> path map (container ids are parsed from
 * paths there) and see containers start and stop. Whole host: a cgroup is not a process,
 * and a container's processes may be no descendant of ours. */
#include "common.bpf.h"

/* Tunables, set by the loader before load. */
const volatile __u8 cgroup_v1_memory = 0;	/* the v1 memory hierarchy, not the unified one */

static __always_inline bool our_hierarchy(struct cgroup *cgrp)
{
	struct cgroup_root *root = BPF_CORE_READ(cgrp, root);

	if (!cgroup_v1_memory)
		return BPF_CORE_READ(root, hierarchy_id) == 0;	/* cgrp_dfl_root */
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return false;
	return BPF_CORE_READ(root, subsys_mask) & (1u << bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id));
}

static __always_inline int emit(struct cgroup *cgrp, const char *path, __u32 op)
{
	struct tr_cgroup *e;
	long n;

	if (!our_hierarchy(cgrp))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_loss(TR_LOSS_RINGBUF, 1);
		return 0;
	}
	fill_head(&e->h, TR_CGROUP, bpf_get_current_task_btf());
	e->cgroup_id = BPF_CORE_READ(cgrp, kn, id);
	e->op = op;
	e->level = BPF_CORE_READ(cgrp, level);
	e->_pad = 0;
	n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), path);
	e->path_len = n > 0 ? n - 1 : 0;
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	return emit(cgrp, path, TR_CGROUP_MKDIR);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	return emit(cgrp, path, TR_CGROUP_RMDIR);
}
