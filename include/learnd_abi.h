/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one definition of everything that crosses the BPF / user-space boundary:
 * policy map key and value, control block, counters and the close record.
 *
 * Included by bpf/learnd.bpf.c after vmlinux.h, and by user space before the
 * skeleton.  Fixed-width types, explicit padding, a size assert on each struct:
 * changing a layout here is an ABI change for pinned maps (bump LEARND_ABI_VERSION).
 */
#ifndef LEARND_ABI_H
#define LEARND_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LEARND_ABI_VERSION 2

/*
 * What a learnd pins under its pin_dir (learnd.conf's pin_dir), one bpffs file
 * each.  The map names are the names of the maps in bpf/learnd.bpf.c (libbpf pins a
 * map under its name); the loader refuses to pin a map not listed here, so the two
 * cannot drift apart.  learnctl opens the first five; tests clean up all of them.
 */
#define LEARND_PIN_LINK "link"             /* the BPF link on the cgroup */
#define LEARND_PIN_POLICY "policy_map"     /* struct learnd_key -> struct learnd_policy */
#define LEARND_PIN_CTL "ctl_map"           /* the one struct learnd_ctl */
#define LEARND_PIN_COUNTERS "counters"     /* per-CPU __u64, enum learnd_counter */
#define LEARND_PIN_RECORDS "records"       /* ring buffer of struct learnd_record */
#define LEARND_PIN_CONN_STORE "conn_store" /* BPF-private: socket storage */
#define LEARND_PIN_BUDGET "budget"         /* BPF-private: per-CPU record budget */
#define LEARND_PIN_MEMO "memo"             /* BPF-private: lookup memo */
/* Every pin, the link first (removing it first detaches the program). */
#define LEARND_PINS                                                                    \
	LEARND_PIN_LINK, LEARND_PIN_POLICY, LEARND_PIN_CTL, LEARND_PIN_COUNTERS,       \
		LEARND_PIN_RECORDS, LEARND_PIN_CONN_STORE, LEARND_PIN_BUDGET, LEARND_PIN_MEMO

/* Arm slots per prefix: slot 0 is the incumbent, the others are probes. */
#define LEARND_MAX_SLOTS 4
/* Shares of connections are out of this many. */
#define LEARND_SHARE_ONE 65536u

/* Upper limits the kernel accepts (and so the config accepts). */
#define LEARND_IW_MAX 1024u          /* TCP_BPF_IW: packets; the kernel takes any > 0 */
#define LEARND_RWND_MAX 1024u        /* RWND_INIT: packets */
#define LEARND_SYN_RTO_MS_MIN 4u     /* one jiffy at HZ=250; rounded up to jiffies anyway */
#define LEARND_SYN_RTO_MS_MAX 60000u  /* fits arm.syn_rto_ms (u16); 60 s is past any useful SYN RTO */
#define LEARND_BASE_RTT_US_MAX 10000000u

/*
 * LPM trie key.  IPv4 is stored v4-mapped (::ffff:a.b.c.d), so an IPv4 /24 is
 * prefixlen 96 + 24 = 120.  prefixlen counts bits of addr, as BPF_MAP_TYPE_LPM_TRIE
 * requires it to be the first member.
 */
struct learnd_key {
	__u32 prefixlen;
	__u8 addr[16]; /* network byte order */
};
_Static_assert(sizeof(struct learnd_key) == 20, "learnd_key layout");

/* One complete tuple of values.  0 means "kernel default" for every field. */
struct learnd_arm {
	__u32 share;       /* of LEARND_SHARE_ONE; shares of a policy add up to it */
	__u32 base_rtt_us; /* BASE_RTT reply, microseconds */
	__u16 iw;          /* TCP_BPF_IW, packets */
	__u16 rwnd;        /* RWND_INIT reply, packets */
	__u16 syn_rto_ms;  /* TIMEOUT_INIT reply, converted to jiffies in BPF */
	__u16 _pad;
};
_Static_assert(sizeof(struct learnd_arm) == 16, "learnd_arm layout");

/* Policy map value: what BPF applies to connections whose remote address matches. */
struct learnd_policy {
	__u32 prefix_id; /* learner's id for the prefix; 0 is reserved for "no prefix" */
	__u32 epoch;     /* bumped whenever slots change; part of the passive slot hash */
	__u32 nslots;    /* 1..LEARND_MAX_SLOTS */
	__u32 _pad;
	struct learnd_arm slots[LEARND_MAX_SLOTS];
};
_Static_assert(sizeof(struct learnd_policy) == 16 + 16 * LEARND_MAX_SLOTS, "learnd_policy layout");

/* Control block: the single entry of the control array map. */
enum learnd_ctl_flags {
	LEARND_CTL_OBSERVE_ONLY = 1u << 0, /* record, but reply -1 (kernel defaults) */
	LEARND_CTL_PAUSED = 1u << 1,       /* operator pause: kernel defaults for everything */
};

struct learnd_ctl {
	__u64 heartbeat_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) of the learner's last tick */
	__u64 ttl_ns;       /* heartbeat older than this: kernel defaults everywhere */
	__u32 flags;        /* enum learnd_ctl_flags */
	__u32 sample_rate;  /* record 1 in sample_rate connections; 0 = none */
	__u32 record_budget; /* records per second per prefix and CPU, beyond which the
			      * prefix is sampled (weights say by how much); 0 = no budget */
	__u32 abi_version;   /* LEARND_ABI_VERSION of the learner that wrote it (BPF ignores it);
			      * 0: written before this field had a name.  A learnd refuses to
			      * adopt pinned maps whose ctl block names another version. */
};
_Static_assert(sizeof(struct learnd_ctl) == 32, "learnd_ctl layout");
/* learnd.conf's default record_budget: a prefix at a few connections a second
 * has every one recorded, a busy one about this many a second per CPU. */
#define LEARND_RECORD_BUDGET_DEFAULT 64u

/* Per-CPU counters, indexed by this enum in the counters map. */
enum learnd_counter {
	LEARND_CNT_RECORDS = 0,        /* close records written to the ring buffer */
	LEARND_CNT_RB_DROPS,           /* close records lost: ring buffer full */
	LEARND_CNT_LOOKUPS,            /* policy lookups */
	LEARND_CNT_MISSES,             /* lookups that matched no prefix */
	LEARND_CNT_IW_FAIL,            /* bpf_setsockopt(TCP_BPF_IW) failed */
	LEARND_CNT_RCVBUF_FAIL,        /* raising the receive buffer for an rwnd failed */
	LEARND_CNT_STORAGE_FAIL,       /* socket storage could not be created */
	LEARND_CNT_DEFAULTED,          /* replies forced to default: stale heartbeat/paused/observe */
	LEARND_CNT_IW_KERNEL,          /* IW not applied: the kernel had cut cwnd to 1 for a lost handshake */
	LEARND_CNT__MAX,
};

/* Close record flags. */
enum learnd_rec_flags {
	LEARND_REC_ACTIVE = 1u << 0,      /* we connected; else we accepted */
	LEARND_REC_ESTABLISHED = 1u << 1, /* the handshake completed */
	LEARND_REC_IPV6 = 1u << 2,        /* remote is a real IPv6 address (not v4-mapped) */
	LEARND_REC_APPLIED = 1u << 3,     /* the slot's values were applied (not defaulted) */
	LEARND_REC_IW_FAILED = 1u << 4,   /* ... but the kernel refused TCP_BPF_IW (e.g. data already sent) */
	LEARND_REC_IW_KERNEL = 1u << 5,   /* IW not applied: the kernel cut cwnd for a lost handshake (RFC 6298 5.7) */
	LEARND_REC_FLAGS__NEXT = 1u << 6, /* first unused bit: keep last */
};
#define LEARND_REC_FLAGS_KNOWN (LEARND_REC_FLAGS__NEXT - 1u) /* every enum learnd_rec_flags bit */

/* One record per sampled connection, written at the move to TCP_CLOSE. */
struct learnd_record {
	__u8 raddr[16];         /* remote address, v4-mapped for IPv4 */
	__u32 prefix_id;        /* 0: no policy matched */
	__u32 epoch;
	__u8 slot;
	__u8 _pad0;
	__u16 flags;            /* enum learnd_rec_flags */
	__u16 iw;               /* values of the slot (what was asked for) */
	__u16 rwnd;
	__u16 syn_rto_ms;
	__u16 _pad1;
	__u32 base_rtt_us;
	__u32 handshake_us;     /* active: connect() to established; passive: SYN-ACK RTT */
	__u32 syn_retrans;      /* SYN (active) or SYN-ACK (passive) retransmits */
	__u32 srtt_us;
	__u32 min_rtt_us;
	__u32 total_retrans;
	__u32 data_segs_out;
	__u32 data_segs_in;
	__u32 snd_wnd;          /* peer's advertised window at established, bytes */
	__u32 mss;
	__u16 rport;          /* remote port, host byte order */
	__u16 lport;          /* local port, host byte order */
	__u64 duration_us;      /* first op to close */
	__u64 busy_us;          /* tcp chrono busy time (sender side) */
	__u64 bytes_acked;
	__u64 bytes_received;
	__u64 close_ns;         /* CLOCK_MONOTONIC at close */
	/* What the connection saw of the path (ABI 2), for the learner's evidence. */
	__u32 snd_cwnd;         /* at close, packets */
	__u32 snd_ssthresh;     /* at close, packets; >= 0x7fffffff: never left slow start */
	__u32 rate_delivered;   /* last delivery-rate sample: packets delivered ... */
	__u32 rate_interval_us; /* ... over this interval (0: no sample) */
	__u16 flight_lost;      /* retransmitted segments that lay in the initial flight (first IW x MSS bytes) */
	__u16 flight_first;     /* lowest packet index (0 = first data packet) among them */
	__u16 flight_last;      /* highest packet index among them */
	__u16 _pad2;
	__u32 weight;           /* connections this record stands for (sampling); 0 is read as 1 */
	__u32 _pad3;
};
_Static_assert(sizeof(struct learnd_record) == 152, "learnd_record layout");

#endif /* LEARND_ABI_H */
