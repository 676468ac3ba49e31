// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnd data plane: a sock_ops program that applies per-prefix TCP setup values
 * (SYN RTO, initial receive window, initial congestion window, base RTT) from an
 * LPM trie and writes one ring-buffer record per sampled connection at close.
 *
 * Every decision is the learner's; this program only looks up, draws a slot and
 * reports.  It replies -1 (kernel default) whenever the learner's heartbeat is
 * stale, the operator paused it, or it runs observe-only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "learnd_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Not in vmlinux.h: they are macros in the uapi headers. */
#define AF_INET 2
#define AF_INET6 10
#define SOL_SOCKET 1
#define SO_RCVBUF 8
#define SO_RCVLOWAT 18
#define SOL_TCP 6
#define TCP_WINDOW_CLAMP 10
#define TCP_CHRONO_BUSY 1

/* CONFIG_HZ turns syn_rto_ms into jiffies; weak so a kernel without a readable
 * config still loads (then 250, the value on the machines we measured). */
extern unsigned int CONFIG_HZ __kconfig __weak;

/* Bytes of window per packet of RWND_INIT, when an rwnd above what the default
 * buffer allows is asked for (an MSS of 1460 and some room). */
const volatile __u32 rcvwin_per_pkt = 1500;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct learnd_key);
	__type(value, struct learnd_policy);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536); /* set by the loader from the config */
} policy_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct learnd_ctl);
	__uint(max_entries, 1);
} ctl_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, LEARND_CNT__MAX);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* set by the loader */
} records SEC(".maps");

/*
 * Record budget: per CPU, per bucket (a prefix id, or for connections in no
 * prefix a hash of the remote /24 or /48), connections seen in this window of
 * 2^30 ns (1.07 s) and the one before.  A bucket above the budget records 1 in
 * w of its connections at random, w = ceil(rate / budget): the record's weight.
 * Prefix ids are small sequential numbers, so up to BUDGET_SLOTS prefixes get a
 * bucket each; a collision only shares a rate (weights stay exact).
 */
#define BUDGET_SLOTS 4096
#define BUDGET_WIN_SHIFT 30

struct budget {
	__u32 win;  /* window number: ktime >> BUDGET_WIN_SHIFT */
	__u32 cur;  /* connections in this window */
	__u32 prev; /* connections in the window before (0 if it was not the last one) */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct budget);
	__uint(max_entries, BUDGET_SLOTS);
} budget SEC(".maps");

/* Per-connection state, private to this program. */
enum conn_flags {
	CONN_SAMPLED = 1u << 8, /* above the learnd_rec_flags bits, which are copied out */
};

struct conn {
	__u64 start_ns;
	__u64 est_ns;
	struct learnd_arm arm; /* the slot's values */
	__u32 prefix_id;
	__u32 epoch;
	__u32 handshake_us;
	__u32 syn_retrans;
	__u32 snd_wnd;
	__u32 weight;    /* connections the record stands for */
	__u32 first_seq; /* sequence number of the first data byte (snd_nxt at established) */
	__u32 mss;       /* at established: the unit of flight indices */
	__u16 flight_iw; /* cwnd right after established (the IW in force) */
	__u16 flight_lost;
	__u16 flight_first;
	__u16 flight_last;
	__u16 flags; /* learnd_rec_flags | conn_flags */
	__u8 slot;
	__u8 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn);
} conn_store SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

/* True when replies must be the kernel's defaults: no learner, paused, observing. */
static __always_inline bool forced_default(const struct learnd_ctl *ctl, __u64 now)
{
	if (!ctl)
		return true;
	if (ctl->flags & (LEARND_CTL_OBSERVE_ONLY | LEARND_CTL_PAUSED))
		return true;
	return now - ctl->heartbeat_ns > ctl->ttl_ns;
}

static __always_inline struct learnd_ctl *get_ctl(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ctl_map, &zero);
}

/* Remote address as a trie key (v4-mapped for IPv4).  Reads only addresses, so it
 * is safe on request sockets.  Returns false for families other than INET/INET6. */
static __always_inline bool remote_key(struct bpf_sock_ops *skops, struct learnd_key *key, bool *v6)
{
	__u32 family = skops->family;
	/* Load every address field unconditionally, each pinned in a register: when
	 * the loads sit in branches, clang 14 merges them into one load through a
	 * computed ctx offset, which the verifier rejects. */
	__u32 ip4 = skops->remote_ip4, a = skops->remote_ip6[0], b = skops->remote_ip6[1],
	      c = skops->remote_ip6[2], d = skops->remote_ip6[3];
	__u32 *w = (__u32 *)key->addr;

	asm volatile("" : "+r"(ip4), "+r"(a), "+r"(b), "+r"(c), "+r"(d));
	key->prefixlen = 128;
	if (family == AF_INET) {
		w[0] = 0;
		w[1] = 0;
		w[2] = bpf_htonl(0x0000ffff);
		w[3] = ip4;
		*v6 = false;
		return true;
	}
	if (family == AF_INET6) {
		w[0] = a;
		w[1] = b;
		w[2] = c;
		w[3] = d;
		*v6 = !(a == 0 && b == 0 && c == bpf_htonl(0x0000ffff));
		return true;
	}
	return false;
}

static __always_inline struct learnd_policy *lookup(struct learnd_key *key)
{
	struct learnd_policy *p;

	count(LEARND_CNT_LOOKUPS);
	p = bpf_map_lookup_elem(&policy_map, key);
	if (!p)
		count(LEARND_CNT_MISSES);
	return p;
}

/* Slot for a draw r in [0, 65536): walk the cumulative shares. */
static __always_inline __u32 pick_slot(const struct learnd_policy *p, __u32 r)
{
	__u32 n = p->nslots, acc = 0;

	r &= LEARND_SHARE_ONE - 1;
	for (__u32 i = 0; i < LEARND_MAX_SLOTS; i++) {
		if (i >= n)
			break;
		acc += p->slots[i].share;
		if (r < acc)
			return i;
	}
	return 0;
}

static __always_inline __u32 mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Slot draw: a hash of the 4-tuple's remote side, local port and epoch, so that
 * every op of a connection draws the same slot without shared state (the
 * request-socket ops of a passive open have none, and a connection that is not
 * sampled gets none: socket storage costs more than a trie lookup per op).
 * Reads only fields valid on a request socket. */
static __always_inline __u32 flow_draw(struct bpf_sock_ops *skops, const struct learnd_key *key, __u32 epoch)
{
	const __u32 *w = (const __u32 *)key->addr;
	__u32 h = epoch * 0x9e3779b9;

	h = mix32(h ^ w[0]);
	h = mix32(h ^ w[1]);
	h = mix32(h ^ w[2]);
	h = mix32(h ^ w[3]);
	h = mix32(h ^ skops->remote_port);
	h = mix32(h ^ skops->local_port);
	return h;
}

static __always_inline __u32 ms_to_jiffies(__u32 ms)
{
	__u32 hz = CONFIG_HZ ? CONFIG_HZ : 250;

	return (ms * hz + 999) / 1000;
}

/*
 * Per CPU, the values last drawn for a connection without socket storage, so
 * that its next ops on this CPU within MEMO_NS take them from here instead of
 * the trie: the active side's RWND_INIT and TIMEOUT_INIT run right after
 * TCP_CONNECT_CB in the same connect() call, the passive side's two in the same
 * softirq.  Keyed by remote address and both ports; stale after MEMO_NS, so a
 * policy change reaches every new connection within that.
 */
#define MEMO_NS (1ull << 22) /* 4.2 ms */

struct memo {
	__u64 ns;
	__u32 addr[4];
	__u32 rport, lport;
	struct learnd_arm arm; /* all 0: no prefix */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct memo);
	__uint(max_entries, 1);
} memo SEC(".maps");

static __always_inline struct memo *get_memo(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&memo, &zero);
}

static __always_inline bool memo_match(const struct memo *m, const struct learnd_key *key, __u32 rport,
				       __u32 lport, __u64 now)
{
	const __u32 *w = (const __u32 *)key->addr;

	return now - m->ns < MEMO_NS && m->rport == rport && m->lport == lport && m->addr[0] == w[0] &&
	       m->addr[1] == w[1] && m->addr[2] == w[2] && m->addr[3] == w[3];
}

static __always_inline void memo_put(const struct learnd_key *key, __u32 rport, __u32 lport,
				     const struct learnd_arm *arm, __u64 now)
{
	const __u32 *w = (const __u32 *)key->addr;
	struct memo *m = get_memo();

	if (!m)
		return;
	m->ns = now;
	m->addr[0] = w[0];
	m->addr[1] = w[1];
	m->addr[2] = w[2];
	m->addr[3] = w[3];
	m->rport = rport;
	m->lport = lport;
	m->arm = *arm;
}

/* The values of a connection without socket storage (a passive open's request
 * socket, or a connection that is not sampled), all 0 for kernel defaults:
 * from the memo, else the trie and the same slot draw as its first op. */
static __always_inline void flow_arm(struct bpf_sock_ops *skops, __u64 now, struct learnd_arm *out)
{
	struct learnd_ctl *ctl = get_ctl();
	__u32 rport = skops->remote_port, lport = skops->local_port;
	struct learnd_policy *p;
	struct learnd_key key;
	struct learnd_arm arm;
	struct memo *m;
	bool v6;

	__builtin_memset(out, 0, sizeof(*out));
	if (!remote_key(skops, &key, &v6))
		return;
	m = get_memo();
	if (m && memo_match(m, &key, rport, lport, now)) {
		arm = m->arm;
	} else {
		__builtin_memset(&arm, 0, sizeof(arm));
		p = lookup(&key);
		if (p)
			arm = p->slots[pick_slot(p, flow_draw(skops, &key, p->epoch)) & (LEARND_MAX_SLOTS - 1)];
		memo_put(&key, rport, lport, &arm, now);
	}
	if (!forced_default(ctl, now))
		*out = arm;
}

/* Budget bucket of a remote address in no prefix: its /24 (IPv4) or /48. */
static __always_inline __u32 addr_bucket(const struct learnd_key *key, bool v6)
{
	const __u32 *w = (const __u32 *)key->addr;

	if (v6)
		return mix32(w[0] ^ mix32(w[1] & bpf_htonl(0xffff0000)));
	return mix32(w[3] & bpf_htonl(0xffffff00));
}

/* 1 in how many of this bucket's connections to record, for the budget: 1
 * while the bucket's rate on this CPU is within it. */
static __always_inline __u32 budget_weight(__u32 bucket, __u32 per_sec, __u64 now)
{
	__u32 idx = bucket & (BUDGET_SLOTS - 1), win = (__u32)(now >> BUDGET_WIN_SHIFT), rate;
	struct budget *b;

	if (!per_sec)
		return 1;
	b = bpf_map_lookup_elem(&budget, &idx);
	if (!b)
		return 1;
	if (b->win != win) {
		b->prev = b->win + 1 == win ? b->cur : 0;
		b->cur = 0;
		b->win = win;
	}
	b->cur++;
	/* the larger of the last window and this one so far: a burst is sampled
	 * from its start, a steady rate at rate / budget */
	rate = b->cur > b->prev ? b->cur : b->prev;
	return rate <= per_sec ? 1 : (rate + per_sec - 1) / per_sec;
}

/* Weight of a connection if it is to be recorded, 0 if not: sample_rate and
 * the budget each pick 1 in N at random, so a record stands for N connections. */
static __always_inline __u32 sample_weight(const struct learnd_ctl *ctl, __u32 bucket, __u64 now)
{
	__u32 rate = ctl->sample_rate;
	__u64 w;

	if (!rate)
		return 0;
	w = (__u64)rate * budget_weight(bucket, ctl->record_budget, now);
	if (w > 0xffffffffull)
		w = 0xffffffffull;
	if (w > 1 && bpf_get_prandom_u32() % (__u32)w)
		return 0;
	return (__u32)w;
}

/*
 * First full-socket op of a connection (TCP_CONNECT_CB or PASSIVE_ESTABLISHED_CB):
 * one trie lookup for the values (into *out, all 0 for kernel defaults) and
 * the sampling decision.  A sampled connection gets socket storage with its
 * prefix, slot, values and weight, for its close record; others get none (NULL):
 * their later ops ask flow_arm(), which draws the same slot.
 */
static __always_inline struct conn *conn_start(struct bpf_sock_ops *skops, bool active, __u64 now,
					       struct learnd_arm *out)
{
	struct learnd_ctl *ctl = get_ctl();
	struct bpf_sock *sk = skops->sk;
	struct learnd_policy *p;
	struct learnd_key key;
	struct learnd_arm arm;
	struct conn *c;
	__u32 slot = 0, prefix_id = 0, epoch = 0, weight;
	bool v6, applied = false;

	__builtin_memset(out, 0, sizeof(*out));
	__builtin_memset(&arm, 0, sizeof(arm));
	if (!ctl || !sk)
		return NULL;
	if (!remote_key(skops, &key, &v6))
		return NULL;
	p = lookup(&key);
	if (p) {
		slot = pick_slot(p, flow_draw(skops, &key, p->epoch)) & (LEARND_MAX_SLOTS - 1);
		arm = p->slots[slot];
		prefix_id = p->prefix_id;
		epoch = p->epoch;
		if (forced_default(ctl, now))
			count(LEARND_CNT_DEFAULTED);
		else
			applied = true;
	}
	if (applied)
		*out = arm;
	weight = sample_weight(ctl, prefix_id ? prefix_id : addr_bucket(&key, v6), now);
	if (!weight) {
		memo_put(&key, skops->remote_port, skops->local_port, &arm, now);
		return NULL;
	}

	c = bpf_sk_storage_get(&conn_store, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		count(LEARND_CNT_STORAGE_FAIL);
		return NULL;
	}
	__builtin_memset(c, 0, sizeof(*c));
	c->start_ns = now;
	c->flags = (active ? LEARND_REC_ACTIVE : 0) | (v6 ? LEARND_REC_IPV6 : 0) | CONN_SAMPLED |
		   (applied ? LEARND_REC_APPLIED : 0);
	c->weight = weight;
	c->slot = slot;
	c->arm = arm;
	c->prefix_id = prefix_id;
	c->epoch = epoch;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
	return c;
}

static __always_inline struct conn *conn_get(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk;

	if (!skops->is_fullsock)
		return NULL;
	sk = skops->sk; /* read once: the verifier tracks the NULL check on this copy */
	if (!sk)
		return NULL;
	return bpf_sk_storage_get(&conn_store, sk, NULL, 0);
}

/* Applied value of a field, or 0 when the connection runs on kernel defaults. */
#define APPLIED(c, field) (((c) && ((c)->flags & LEARND_REC_APPLIED)) ? (c)->arm.field : 0)

/* The values a connection gets, all 0 for kernel defaults: from its storage if
 * it has some (sampled), else flow_arm().  Copied out, so that no pointer into
 * a map outlives its own branch (clang merges such pointers into arithmetic
 * the verifier refuses). */
static __always_inline void conn_arm(struct bpf_sock_ops *skops, struct conn *c, __u64 now, struct learnd_arm *out)
{
	__builtin_memset(out, 0, sizeof(*out));
	if (c) {
		if (c->flags & LEARND_REC_APPLIED)
			*out = c->arm;
		return;
	}
	flow_arm(skops, now, out);
}

/*
 * Active opens: room in the receive buffer for an RWND_INIT above what it
 * allows (RWND_INIT can only lower the window).  Not SO_RCVBUF: that locks the
 * buffer for the connection's life, receive autotuning off and capped at
 * net.core.rmem_max, so a large download over a long path crawls.  SO_RCVLOWAT
 * raises sk_rcvbuf to fit that much window without the lock and autotuning
 * goes on from there (tcp_set_rcvlowat, capped at tcp_rmem[2] / 2).  It also
 * clamps the window there, which would shrink the SYN's window scale for good:
 * the clamp goes back to the largest, and the low-water mark back to 1, all
 * before tcp_connect_init() sizes the SYN.  An application's own low-water
 * mark is left alone (no growth then).
 */
static __always_inline void grow_rcvbuf(struct bpf_sock_ops *skops, __u32 rwnd)
{
	int cur = 0, lowat = 0, want, one = 1, clamp = 65535 << 14;

	if (!rwnd)
		return;
	want = (int)(rwnd * rcvwin_per_pkt);
	/* enough already: the window is about half the buffer */
	if (bpf_getsockopt(skops, SOL_SOCKET, SO_RCVBUF, &cur, sizeof(cur)) == 0 && (__u32)cur / 2 >= (__u32)want)
		return;
	if (bpf_getsockopt(skops, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat))) {
		count(LEARND_CNT_RCVBUF_FAIL);
		return;
	}
	if (lowat != 1)
		return;
	if (bpf_setsockopt(skops, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof(want))) {
		count(LEARND_CNT_RCVBUF_FAIL);
		return;
	}
	/* whatever happens, the mark goes back to 1 */
	if (bpf_setsockopt(skops, SOL_TCP, TCP_WINDOW_CLAMP, &clamp, sizeof(clamp)) |
	    bpf_setsockopt(skops, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one)))
		count(LEARND_CNT_RCVBUF_FAIL);
}

/* TCP_BPF_IW; false if the kernel refused it (counted). */
static __always_inline bool apply_iw(struct bpf_sock_ops *skops, int iw)
{
	if (iw > 0 && bpf_setsockopt(skops, SOL_TCP, TCP_BPF_IW, &iw, sizeof(iw))) {
		count(LEARND_CNT_IW_FAIL);
		return false;
	}
	return true;
}

/*
 * At *_ESTABLISHED_CB: has the kernel just started this connection at cwnd 1
 * for a lost handshake?  tcp_init_transfer() does that, before calling us, when
 * more than one SYN (active) or SYN-ACK (passive) was retransmitted and the
 * loss was not undone as spurious: total_retrans > 1 && undo_marker (RFC 5681
 * 3.1, RFC 6298 5.7).  An IW set now would undo the kernel's safety rule.
 */
static __always_inline bool kernel_cut_cwnd(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk;
	struct tcp_sock *tp;

	if (skops->total_retrans <= 1)
		return false;
	sk = skops->sk;
	if (!sk)
		return false;
	tp = bpf_skc_to_tcp_sock(sk);
	return tp && tp->undo_marker;
}

/* The IW of a connection at established, unless the kernel cut cwnd for a lost
 * handshake (counted when a value was kept from it).  0: applied or nothing to
 * apply; LEARND_REC_IW_KERNEL or LEARND_REC_IW_FAILED otherwise. */
static __always_inline __u16 established_iw(struct bpf_sock_ops *skops, __u32 iw)
{
	if (kernel_cut_cwnd(skops)) {
		if (iw)
			count(LEARND_CNT_IW_KERNEL);
		return LEARND_REC_IW_KERNEL;
	}
	return apply_iw(skops, (int)iw) ? 0 : LEARND_REC_IW_FAILED;
}

/* *_ESTABLISHED_CB of a sampled connection: the handshake for its record, its
 * IW, and the start of its initial flight (RETRANS_CB follows it). */
static __always_inline void established(struct bpf_sock_ops *skops, struct conn *c, __u64 now)
{
	struct bpf_sock *sk = skops->sk;
	struct tcp_sock *tp;
	__u32 cwnd, flags;

	c->est_ns = now;
	c->flags |= LEARND_REC_ESTABLISHED;
	c->syn_retrans = skops->total_retrans;
	if (c->flags & LEARND_REC_ACTIVE)
		c->handshake_us = (now - c->start_ns) / 1000;
	else
		c->handshake_us = skops->srtt_us >> 3; /* the SYN-ACK RTT sample */
	if (sk) {
		tp = bpf_skc_to_tcp_sock(sk);
		if (tp)
			c->snd_wnd = tp->snd_wnd;
	}
	/* the learner must not credit an IW the kernel refused or kept from us */
	c->flags |= established_iw(skops, APPLIED(c, iw));
	/* read after the IW: what is in force now (the slot's, the route's or the
	 * kernel's 10, or the kernel's 1) */
	cwnd = skops->snd_cwnd;
	c->flight_iw = cwnd > 0xffff ? 0xffff : cwnd;
	c->first_seq = skops->snd_nxt;
	c->mss = skops->mss_cache;
	flags = skops->bpf_sock_ops_cb_flags;
	bpf_sock_ops_cb_flags_set(skops, flags | BPF_SOCK_OPS_STATE_CB_FLAG | BPF_SOCK_OPS_RETRANS_CB_FLAG);
}

/*
 * RETRANS_CB of a sampled connection: segs segments from seq were sent again
 * (err: tcp_transmit_skb's return; not sent unless 0).  Count those whose index
 * (seq - first_seq) / mss lies in the initial flight, [0, IW).  Once snd_una is
 * past the flight no retransmission can lie in it: the callback is turned off.
 */
static __always_inline void flight_retrans(struct bpf_sock_ops *skops, struct conn *c, __u32 seq, __u32 segs,
					   __u32 err)
{
	__u32 mss = c->mss, iw = c->flight_iw, idx, end, lost, flags;

	if (!mss)
		return;
	idx = (seq - c->first_seq) / mss;
	if (!err && idx < iw && segs) {
		end = idx + segs < iw ? idx + segs : iw; /* segments idx .. end - 1 */
		if (!c->flight_lost || idx < c->flight_first)
			c->flight_first = idx;
		if (end - 1 > c->flight_last)
			c->flight_last = end - 1;
		lost = c->flight_lost + (end - idx);
		c->flight_lost = lost > 0xffff ? 0xffff : lost;
	}
	if (skops->snd_una - c->first_seq >= iw * mss) {
		flags = skops->bpf_sock_ops_cb_flags;
		bpf_sock_ops_cb_flags_set(skops, flags & ~BPF_SOCK_OPS_RETRANS_CB_FLAG);
	}
}

/* Sender busy time, as tcp_get_info() computes tcpi_busy_time, in microseconds. */
static __always_inline __u64 busy_us(struct tcp_sock *tp)
{
	__u32 hz = CONFIG_HZ ? CONFIG_HZ : 250;
	__u64 j;

	if (!tp)
		return 0;
	j = tp->chrono_stat[0];
	if (BPF_CORE_READ_BITFIELD(tp, chrono_type) == TCP_CHRONO_BUSY)
		j += (__u32)bpf_jiffies64() - tp->chrono_start;
	return j * (1000000 / hz);
}

/*
 * The kernel's bytes_acked and bytes_received count sequence space: the active
 * side's bytes_acked includes its SYN, and each counter includes a FIN once it
 * is acked (ours) or received (the peer's).  Records carry data bytes, what the
 * applications wrote and read, so take those out.  old_state is the state the
 * socket leaves for TCP_CLOSE.
 */
static __always_inline void data_bytes(struct tcp_sock *tp, __u32 old_state, bool syn_acked, __u64 *acked,
				       __u64 *received)
{
	__u64 adj = syn_acked ? 1 : 0;
	bool fin_queued;

	if (!tp)
		return;
	fin_queued = old_state == BPF_TCP_FIN_WAIT1 || old_state == BPF_TCP_FIN_WAIT2 ||
		     old_state == BPF_TCP_CLOSING || old_state == BPF_TCP_LAST_ACK;
	if (fin_queued && tp->snd_una == tp->write_seq) /* write_seq counts a queued FIN */
		adj++;
	*acked = *acked > adj ? *acked - adj : 0;
	/* tcp_fin() sets SOCK_DONE; tcp_done() runs the CLOSE callback before it could */
	if (*received && (tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags & (1UL << SOCK_DONE)))
		*received -= 1;
}

static __always_inline void emit_record(struct bpf_sock_ops *skops, struct conn *c, __u32 old_state, __u64 now)
{
	/* Context fields read once, into locals (see remote_key). */
	__u32 total_retrans = skops->total_retrans, srtt = skops->srtt_us, rtt_min = skops->rtt_min;
	__u32 segs_out = skops->data_segs_out, segs_in = skops->data_segs_in, mss = skops->mss_cache;
	__u32 rport = skops->remote_port, lport = skops->local_port;
	__u64 acked = skops->bytes_acked, received = skops->bytes_received;
	__u32 cwnd = skops->snd_cwnd, ssthresh = skops->snd_ssthresh;
	__u32 delivered = skops->rate_delivered, interval = skops->rate_interval_us;
	struct learnd_record *r;
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	struct learnd_key key;
	bool v6;

	asm volatile("" : "+r"(total_retrans), "+r"(srtt), "+r"(rtt_min), "+r"(segs_out), "+r"(segs_in));
	asm volatile("" : "+r"(mss), "+r"(rport), "+r"(lport), "+r"(acked), "+r"(received));
	asm volatile("" : "+r"(cwnd), "+r"(ssthresh), "+r"(delivered), "+r"(interval));
	c->flags &= ~CONN_SAMPLED; /* one record per connection */
	r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r) {
		count(LEARND_CNT_RB_DROPS);
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	if (remote_key(skops, &key, &v6))
		__builtin_memcpy(r->raddr, key.addr, sizeof(r->raddr));
	r->prefix_id = c->prefix_id;
	r->epoch = c->epoch;
	r->slot = c->slot;
	r->flags = c->flags & 0xff;
	r->iw = c->arm.iw;
	r->rwnd = c->arm.rwnd;
	r->syn_rto_ms = c->arm.syn_rto_ms;
	r->base_rtt_us = c->arm.base_rtt_us;
	r->handshake_us = c->handshake_us;
	r->syn_retrans = (c->flags & LEARND_REC_ESTABLISHED) ? c->syn_retrans : total_retrans;
	r->srtt_us = srtt >> 3;
	r->min_rtt_us = rtt_min;
	r->total_retrans = total_retrans;
	r->data_segs_out = segs_out;
	r->data_segs_in = segs_in;
	r->snd_wnd = c->snd_wnd;
	r->mss = mss;
	r->rport = bpf_ntohl(rport); /* the ctx keeps it as a big-endian 32-bit word */
	r->lport = lport;
	r->duration_us = (now - c->start_ns) / 1000;
	sk = skops->sk; /* read once: the verifier tracks the NULL check on this copy */
	tp = sk ? bpf_skc_to_tcp_sock(sk) : NULL;  /* once, for both */
	r->busy_us = busy_us(tp);
	data_bytes(tp, old_state,
		   (c->flags & (LEARND_REC_ACTIVE | LEARND_REC_ESTABLISHED)) == (LEARND_REC_ACTIVE | LEARND_REC_ESTABLISHED),
		   &acked, &received);
	r->bytes_acked = acked;
	r->bytes_received = received;
	r->close_ns = now;
	r->snd_cwnd = cwnd;
	r->snd_ssthresh = ssthresh;
	r->rate_delivered = delivered;
	r->rate_interval_us = interval;
	r->flight_lost = c->flight_lost;
	r->flight_first = c->flight_first;
	r->flight_last = c->flight_last;
	r->weight = c->weight;
	/* Wake the reader only when the ring is a quarter full: a wake-up per record
	 * is a self-interrupt each (a VM exit on virtual machines), measured at
	 * 1109 -> 225 ns per op with sample_rate 1.  learnd consumes every 50 ms
	 * anyway (ring_buffer__consume after each poll). */
	bpf_ringbuf_submit(r, bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >=
					  bpf_ringbuf_query(&records, BPF_RB_RING_SIZE) / 4
				  ? BPF_RB_FORCE_WAKEUP
				  : BPF_RB_NO_WAKEUP);
	count(LEARND_CNT_RECORDS);
}

#define NOW_OPS                                                                                     \
	((1u << BPF_SOCK_OPS_TIMEOUT_INIT) | (1u << BPF_SOCK_OPS_RWND_INIT) | (1u << BPF_SOCK_OPS_TCP_CONNECT_CB) | \
	 (1u << BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB) | (1u << BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) |             \
	 (1u << BPF_SOCK_OPS_BASE_RTT) | (1u << BPF_SOCK_OPS_STATE_CB))

SEC("sockops")
int learnd_sockops(struct bpf_sock_ops *skops)
{
	__u32 op = skops->op;
	/* the clock only for the ops that use it (not NEEDS_ECN, twice a connection) */
	__u64 now = op < 32 && ((1u << op) & NOW_OPS) ? bpf_ktime_get_ns() : 0;
	struct learnd_arm arm;
	struct conn *c;
	int rv = -1;

	switch (op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		conn_start(skops, true, now, &arm);
		grow_rcvbuf(skops, arm.rwnd);
		rv = 1;
		break;
	case BPF_SOCK_OPS_TIMEOUT_INIT:
	case BPF_SOCK_OPS_RWND_INIT: {
		__u32 v;

		/* active: a full socket, with storage if sampled; passive: a request
		 * socket, addresses only (conn_get gives NULL) */
		conn_arm(skops, conn_get(skops), now, &arm);
		v = op == BPF_SOCK_OPS_TIMEOUT_INIT ? arm.syn_rto_ms : arm.rwnd;
		if (v)
			rv = op == BPF_SOCK_OPS_TIMEOUT_INIT ? (int)ms_to_jiffies(v) : (int)v;
		break;
	}
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		c = conn_get(skops);
		if (c) {
			established(skops, c, now);
		} else {
			conn_arm(skops, NULL, now, &arm);
			if (arm.iw)
				established_iw(skops, arm.iw);
		}
		rv = 1;
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		c = conn_start(skops, false, now, &arm);
		if (c)
			established(skops, c, now);
		else if (arm.iw)
			established_iw(skops, arm.iw);
		rv = 1;
		break;
	case BPF_SOCK_OPS_RETRANS_CB: {
		__u32 seq = skops->args[0], segs = skops->args[1], err = skops->args[2];

		c = conn_get(skops);
		if (c && (c->flags & CONN_SAMPLED))
			flight_retrans(skops, c, seq, segs, err);
		rv = 1;
		break;
	}
	case BPF_SOCK_OPS_BASE_RTT:
		conn_arm(skops, conn_get(skops), now, &arm);
		if (arm.base_rtt_us)
			rv = (int)arm.base_rtt_us;
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == BPF_TCP_CLOSE) {
			__u32 old_state = skops->args[0];

			c = conn_get(skops);
			if (c && (c->flags & CONN_SAMPLED))
				emit_record(skops, c, old_state, now);
		}
		rv = 1;
		break;
	default:
		break;
	}
	/* One store to reply: clang 14 may otherwise fold several stores into a
	 * modified ctx pointer that the verifier rejects. */
	asm volatile("" ::: "memory");
	skops->reply = rv;
	return 1;
}
