/* bpf/net.bpf.c: per-process network bytes (TCP and UDP, IPv4 and IPv6), counted where a
 * socket send or receive returns in the process's own context.
 * Since 6.3 the sock_send_length/sock_recv_length tracepoints see every socket call and need
 * no trampoline; older kernels use fexit on the protocol functions, where
 * bpf_get_func_ret reads the result whatever the argument count (it changed for
 * tcp_recvmsg). The loader keeps one set. */
#include "common.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2

static __always_inline void add_bytes(__u32 tgid, int n, bool send)
{
	struct tr_counters *c;

	if (n <= 0)
		return;
	c = counters_of(tgid);
	if (!c)
		return;
	if (send)
		__sync_fetch_and_add(&c->net_send_bytes, n);
	else
		__sync_fetch_and_add(&c->net_recv_bytes, n);
}

static __always_inline bool inet(struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return family == AF_INET || family == AF_INET6;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send, struct sock *sk, int ret, int flags)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (ret <= 0 || !wanted(tgid) || !inet(sk))
		return 0;
	add_bytes(tgid, ret, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv, struct sock *sk, int ret, int flags)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	/* A peek is read again later: count it then. */
	if (ret <= 0 || (flags & MSG_PEEK) || !wanted(tgid) || !inet(sk))
		return 0;
	add_bytes(tgid, ret, false);
	return 0;
}

static __always_inline int fexit_bytes(void *ctx, bool send)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 ret = 0;

	if (!wanted(tgid))
		return 0;
	bpf_get_func_ret(ctx, &ret);
	add_bytes(tgid, (int)ret, send);
	return 0;
}

SEC("fexit/tcp_sendmsg")
int tcp_send(void *ctx) { return fexit_bytes(ctx, true); }

SEC("fexit/tcp_recvmsg")
int tcp_recv(void *ctx) { return fexit_bytes(ctx, false); }

SEC("fexit/udp_sendmsg")
int udp_send(void *ctx) { return fexit_bytes(ctx, true); }

SEC("fexit/udp_recvmsg")
int udp_recv(void *ctx) { return fexit_bytes(ctx, false); }

SEC("fexit/udpv6_sendmsg")
int udp6_send(void *ctx) { return fexit_bytes(ctx, true); }

SEC("fexit/udpv6_recvmsg")
int udp6_recv(void *ctx) { return fexit_bytes(ctx, false); }
