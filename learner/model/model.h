/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * learnd's learning model: per-prefix statistics and the decision of the arm
 * slots.  Pure C: no libbpf, no SQLite, no I/O, no allocation, no clock.  The
 * caller owns the memory (one struct learnd_model per prefix, fixed size),
 * routes each close record to its prefix, passes "now", and persists the rows
 * that learnd_model_export() produces.  docs/model.md explains the algorithm.
 *
 *   learnd_model_cfg_default(&cfg);  ...set cfg.bound[]...
 *   learnd_model_init(&m, &cfg);                  (or _init_from_parent)
 *   learnd_model_observe(&m, &rec, now_ns);       per record, O(1)
 *   learnd_model_decide(&m, &dec);                per tick: slots + why
 *   learnd_model_export(&m, rows, n);  learnd_model_import(&m, rows, n);
 *
 * Functions that can fail return 0 or a negative errno (-EINVAL).
 */
#ifndef LEARND_MODEL_H
#define LEARND_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "learnd_abi.h"
#include "learnd_vocab.h" /* enum learnd_param (the order of cfg.bound[]), struct learnd_bound,
			   * enum learnd_why, the IW grid */

/* How the sender-side (IW) cost measures the time a connection's data took. */
enum learnd_time_source {
	LEARND_TIME_BUSY = 0, /* busy_us: sender busy time (jiffy granularity, unbiased) */
	LEARND_TIME_DURATION, /* duration_us, minus the handshake for active opens */
};

/*
 * Bounds and knobs.  learnd_model_cfg_default() fills the knobs with the values
 * docs/model.md measures; all four bounds default to UNSET.  A copy is kept in
 * each struct learnd_model, so per-prefix bounds are just per-prefix cfgs.
 */
/* The most a probe may get, in percent of a prefix's connections: the upper
 * limit of probe_max_each (model_cfg.def) and so of probe_min_total, and the
 * upper limit of learnd.conf's probe_pct. */
#define LEARND_PROBE_PCT_MAX 30

struct learnd_model_cfg {
	struct learnd_bound bound[LEARND_PARAM__MAX];

	/* IW / RWND bandit */
	uint32_t window;         /* discount: gamma = 1 - 1/window, per record of the stream (2000) */
	double probe_min_total;  /* share of all probes together, at least (0.05) */
	double probe_max_each;   /* share of one explored probe (0.25) */
	double retrans_penalty;  /* cost in round trips per retransmitted data segment (0.5) */
	double cost_clip;        /* a record's normalised cost is clipped at this (8) */
	double z;                /* switch when better by margin + z standard errors (2.0) */
	double margin;           /* ... and by this fraction of the incumbent's cost (0.02) */
	double n_min;            /* discounted samples both values need before a switch (10) */
	double cap_frac;         /* don't probe IW above v if peer window <= v this often (0.9) */
	uint64_t min_bytes;      /* ignore flows below this (and below min allowed value * mss) (0) */
	uint32_t iw_time;        /* enum learnd_time_source (BUSY) */

	/* SYN RTO and BASE_RTT estimators */
	uint32_t est_window;     /* histogram discount: gamma = 1 - 1/est_window, per record (1000) */
	double rto_quantile;     /* of clean handshake times (0.99) */
	double rto_margin;       /* multiply the quantile by this (1.5) */
	double rto_pad_ms;       /* then add this (8 = 2 jiffies at HZ=250) */
	double spurious_max;     /* spurious SYN retransmit rate above which RTO backs off (0.02) */
	double est_min_samples;  /* discounted samples before an estimate replaces the default (20) */
	double base_rtt_quantile;/* of min_rtt_us (0.10) */
	double est_hysteresis;   /* publish a new estimate only if it moved by this fraction (0.1) */

	/* parent borrowing */
	double borrow_n;         /* a child starts with at most this much of each parent value (4) */
	double pool_n;           /* a child follows its parent's IW/RWND until it has this many records (30) */

	/* relevance and initial-flight evidence */
	double rel_frac;         /* a parameter matters when this share of connections can feel it (0.10) */
	double n_clean;          /* absorbed initial flights of >= v before exploration moves up to v (2) */
};

/* ---- state (fields are private: use the functions) ---- */

#define LEARND_MODEL_MAX_VALUES 16 /* the grid, two bounds and RWND's 0 fit */
_Static_assert(LEARND_MODEL_MAX_VALUES >= LEARND_IW_GRID_N + 3, "LEARND_MODEL_MAX_VALUES holds the IW grid");
#define LEARND_MODEL_NCLASSES 12   /* flow-size classes: floor(log2(segments)), last >= 2048 */
#define LEARND_MODEL_QBUCKETS 193  /* log histogram: 8 buckets per octave, 24 octaves + 1 */

struct learnd_model_cell {        /* one (value, flow-size class) */
	float n;      /* discounted count (scaled by the stream's w) */
	float s;      /* sum of normalised cost */
	float s2;     /* sum of squared normalised cost */
};

struct learnd_model_arm_stat {    /* one value */
	double n;     /* discounted count, all classes (scaled by the stream's w) */
	double raw;   /* sum of raw cost in round trips (for reports) */
	uint64_t last_ns;  /* "now" of the last update */
	uint64_t last_seq; /* the stream's count at the last update */
	struct learnd_model_cell cell[LEARND_MODEL_NCLASSES];
};

struct learnd_model_stream {     /* one per probed parameter: IW, RWND */
	double w;                     /* inflation weight: discounted sum = stored / w */
	uint64_t count;               /* records used, not discounted */
	uint32_t nvalues;             /* allowed values (0 or 1: not learnable) */
	uint32_t inc;                 /* index of the incumbent in values[] */
	uint16_t values[LEARND_MODEL_MAX_VALUES]; /* ascending; RWND: 0 (no reply = kernel) last */
	uint32_t changes;             /* change detections (diagnostics; not exported) */
	uint32_t dflt;                /* index of the kernel's behaviour (LEARND_KERNEL_IW clamped, RWND 0) */
	/* Initial-flight evidence (IW), discounted per flight record (fw, window LM_FLIGHT_WINDOW):
	 * fc[i]: absorbed flights of at least values[i] segments (credited to the largest
	 *        value <= the flight); ft[i]: flights that lost their tail from a packet index
	 *        k with values[i-1] <= k < values[i] (credited to the smallest value > k). */
	double fw;
	float fc[LEARND_MODEL_MAX_VALUES];
	float ft[LEARND_MODEL_MAX_VALUES];
	struct learnd_model_arm_stat arm[LEARND_MODEL_MAX_VALUES];
	float cu_hi[LEARND_MODEL_MAX_VALUES]; /* CUSUM of each value's costs (not exported) */
	float cu_lo[LEARND_MODEL_MAX_VALUES];
};

struct learnd_model_qhist {      /* discounted log-bucket histogram */
	double w;                     /* inflation weight: discounted count = b[i] / w */
	double aux[2];                /* counters kept in the same scale */
	float b[LEARND_MODEL_QBUCKETS];
};

/* Who can feel IW / RWND here: discounted connection counts (scale w, like a qhist). */
struct learnd_model_rel {
	double w;
	double all;                   /* established connections */
	double send;                  /* ... that sent more than the kernel's IW (LEARND_KERNEL_IW x mss) */
	double recv;                  /* ... that received more than LEARND_KERNEL_IW x mss */
};

struct learnd_model {
	struct learnd_model_cfg cfg;
	double inv_gamma_stream, inv_gamma_hist; /* 1 / gamma of the streams and of the histograms */
	struct learnd_model_stream stream[2]; /* [LEARND_PARAM_IW], [LEARND_PARAM_RWND] */
	struct learnd_model_qhist handshake_hist; /* handshake_us; aux[0] spurious, aux[1] handshakes */
	struct learnd_model_qhist minrtt;  /* min_rtt_us */
	struct learnd_model_qhist peerwnd; /* peer window in packets (snd_wnd / mss) */
	struct learnd_model_rel rel;
	uint32_t pub_rto_ms;          /* published SYN RTO (slot value when learning) */
	uint32_t pub_base_rtt_us;     /* published BASE_RTT */
	float rtt_floor_us;           /* base_rtt_quantile (p10) of min_rtt_us at the last decision (0:
				       * too few): the round trip a rescued handshake is measured against */
	uint32_t decided;             /* learnd_model_decide() has run */
	uint32_t pending;             /* bitmask of params snapped by a bounds change */
	uint64_t samples;             /* records observed, all kinds */
	uint64_t failed;              /* records of connections that never established */
	uint64_t last_ns;             /* "now" of the last observe (for LRU eviction) */
};

/* ---- configuration ---- */

void learnd_model_cfg_default(struct learnd_model_cfg *cfg);
/* 0 or -EINVAL with a message naming the field and value in err (may be NULL). */
int learnd_model_cfg_check(const struct learnd_model_cfg *cfg, char *err, size_t errlen);

/*
 * The values a probed parameter may take: LEARND_IW_GRID (learnd_vocab.h)
 * within [min,max] plus min and max; {v} when FIXED; {0} when UNSET.
 * Returns the count (ascending in out[], which needs LEARND_MODEL_MAX_VALUES).
 */
unsigned learnd_model_allowed(const struct learnd_bound *b, uint16_t *out);

/* ---- lifetime ---- */

/* Fresh state: the kernel's behaviour: IW = allowed value nearest LEARND_KERNEL_IW, RWND = 0
 * (no reply: the kernel's window; a legal value of a learned RWND), SYN RTO =
 * LEARND_KERNEL_SYN_RTO_MS clamped to bounds, BASE_RTT = min (estimated, never probed). */
int learnd_model_init(struct learnd_model *m, const struct learnd_model_cfg *cfg);

/* A new (sparse) prefix that starts from its parent's estimate: the parent's
 * incumbent, published estimates and statistics, each value's evidence scaled
 * down to at most cfg->borrow_n samples, so its own records soon dominate. */
int learnd_model_init_from_parent(struct learnd_model *m, const struct learnd_model_cfg *cfg,
				  const struct learnd_model *parent);

/* New bounds/knobs for an existing prefix (config reload, pin/unpin): keeps the
 * statistics of values still allowed, snaps incumbents into the new bounds. */
int learnd_model_set_cfg(struct learnd_model *m, const struct learnd_model_cfg *cfg);

/* ---- intake ---- */

enum learnd_model_used {
	LEARND_USED_IW = 1u << 0,        /* cost entered the IW statistics */
	LEARND_USED_RWND = 1u << 1,      /* cost entered the RWND statistics */
	LEARND_USED_HANDSHAKE = 1u << 2, /* handshake time entered the SYN RTO histogram */
	LEARND_USED_MIN_RTT = 1u << 3,   /* min RTT entered the BASE_RTT histogram */
	LEARND_USED_SPURIOUS = 1u << 4,  /* counted as a spurious SYN retransmit */
};

/* Fold one close record into the prefix.  O(1), no allocation.  Any record is
 * accepted (garbage is ignored field by field); returns enum learnd_model_used bits. */
unsigned learnd_model_observe(struct learnd_model *m, const struct learnd_record *rec,
			      uint64_t now_ns);

/* Did the record's initial flight lose a run of packets at its end (the queue
 * overflowed: its IW is above what the path absorbs)?  Pure, no model needed:
 * the learner uses it to give a prefix its own model at once. */
bool learnd_model_flight_overflowed(const struct learnd_record *rec);

static inline uint64_t learnd_model_samples(const struct learnd_model *m) { return m->samples; }
static inline uint64_t learnd_model_last_used(const struct learnd_model *m) { return m->last_ns; }

/* ---- decision ---- */

struct learnd_model_decision {
	struct learnd_arm slots[LEARND_MAX_SLOTS]; /* slot 0 incumbent; shares sum to 65536 */
	uint32_t nslots;
	uint32_t changed;      /* bit (1u << enum learnd_param): slot-0 value changed */
	uint32_t why;          /* enum learnd_why (learnd_vocab.h), the most important change */
	char text[320];        /* e.g. "iw 10->20: cost 0.81 vs 1.00 (3.1 vs 4.0 rtts), n=54 vs 610" */
};

/* Decide the slots.  Deterministic (no randomness): the same state gives the
 * same decision, which is what makes export/import reproduce the policy.
 * May switch the incumbent (hence not const).  Returns 0. */
int learnd_model_decide(struct learnd_model *m, struct learnd_model_decision *out);

/* Like learnd_model_decide(), for a prefix that has a parent (NULL: none):
 * until the child has cfg.pool_n records of its own for a parameter it
 * follows the parent's incumbent (and relevance) unless its own evidence
 * contradicts it (initial-flight tail loss, a worse measured cost). */
int learnd_model_decide_pooled(struct learnd_model *m, const struct learnd_model *parent,
			       struct learnd_model_decision *out);

/* What a parameter is doing for this prefix, and why (for report / show). */
enum learnd_model_status {
	LEARND_STATUS_DEFAULT = 0, /* UNSET: the kernel's value, never touched */
	LEARND_STATUS_FIXED,       /* FIXED bound or pin */
	LEARND_STATUS_LEARNED,     /* probed / estimated within the bounds */
	LEARND_STATUS_NO_EFFECT,   /* learnable, but cannot matter here: kernel default, no probes */
	LEARND_STATUS_WAITING,     /* learnable, not enough records yet to tell: kernel default */
};
/* Status of parameter p; why gets a short reason ("sends < 15 KB in 97% of connections"). */
enum learnd_model_status learnd_model_status(const struct learnd_model *m, unsigned p, char *why, size_t len);
const char *learnd_model_status_name(enum learnd_model_status s);
/* Bits (1u << enum learnd_param) of the parameters the model probes now. */
unsigned learnd_model_probed(const struct learnd_model *m);

/* Current estimates, for reports (NAN where there is no data). */
struct learnd_model_estimates {
	double handshake_q_us;   /* cfg.rto_quantile of handshake times */
	double handshake_n;      /* discounted handshake samples */
	double spurious_rate;    /* spurious SYN retransmits / handshakes */
	double min_rtt_q_us;     /* cfg.base_rtt_quantile of min RTTs */
	double min_rtt_n;
	double peer_wnd_p50;     /* packets */
	uint32_t rto_ms;         /* what the estimator proposes now (before hysteresis); 0: no data */
	uint32_t base_rtt_us;
	uint32_t changes;        /* path changes detected (IW + RWND) since init/import */
};
void learnd_model_estimates(const struct learnd_model *m, struct learnd_model_estimates *e);

/* ---- persistence: plain rows, no I/O ---- */

enum learnd_model_row_kind {
	LEARND_ROW_PREFIX = 1, /* key = decided; n = samples, sum = failed, sum2 = pending; last_ns */
	LEARND_ROW_PARAM,      /* param; key = incumbent / published value; n = stream count;
				  SYN_RTO: sum = spurious, sum2 = handshakes (discounted) */
	LEARND_ROW_ARM,        /* param, key = value: n, sum_raw, last_ns, age */
	LEARND_ROW_CELL,       /* param, key = value | class << 16: n, sum, sum2 */
	LEARND_ROW_HIST,       /* param = enum learnd_model_hist, key = bucket: n */
	LEARND_ROW_FLIGHT,     /* param IW, key = value: n = absorbed flights (fc), sum = tail losses (ft) */
	LEARND_ROW_REL,        /* param 0: n = connections, sum = senders, sum2 = receivers */
};

enum learnd_model_hist {
	LEARND_HIST_HANDSHAKE = 0, /* us */
	LEARND_HIST_MIN_RTT,       /* us */
	LEARND_HIST_PEER_WND,      /* packets */
};

struct learnd_model_row {
	uint8_t kind;   /* enum learnd_model_row_kind */
	uint8_t param;  /* enum learnd_param, or enum learnd_model_hist for HIST rows */
	uint16_t _pad;
	uint32_t key;
	double n;       /* discounted counts, already discounted to "now" */
	double sum;
	double sum2;
	double sum_raw;
	uint64_t last_ns;
	uint64_t age;   /* ARM: records of its stream since the value's last update */
};

/* Upper bound of the rows one prefix exports. */
#define LEARND_MODEL_MAX_ROWS \
	(2 + LEARND_PARAM__MAX + 2 * LEARND_MODEL_MAX_VALUES * (1 + LEARND_MODEL_NCLASSES) + \
	 LEARND_MODEL_MAX_VALUES + 3 * LEARND_MODEL_QBUCKETS)

/* Writes the non-empty rows (at most max) and returns how many there are in
 * all (a return > max means rows was too small and was truncated). */
size_t learnd_model_export(const struct learnd_model *m, struct learnd_model_row *rows, size_t max);

/* Replaces m's statistics with the rows (m must have been initialised with the
 * prefix's cfg first).  Rows for values the bounds no longer allow are skipped,
 * malformed rows (negative or non-finite numbers, unknown kinds) too.  Returns
 * the number of rows skipped (0 when all applied). */
int learnd_model_import(struct learnd_model *m, const struct learnd_model_row *rows, size_t n);

/* From saved rows alone (no import; cheap enough for every prefix of a report):
 * bits (1u << enum learnd_param) of IW / RWND that have no effect here by the
 * default rel_frac (learnd runs with it); 0 when the rows do not tell. */
unsigned learnd_model_rows_no_effect(const struct learnd_model_row *rows, size_t n);

#endif /* LEARND_MODEL_H */
