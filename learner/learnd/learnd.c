// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * learnd: attaches the data plane to a cgroup, feeds the close records to the
 * learner (learner.c and its modules, learner_int.h), which writes per-prefix policies and keeps the history
 * (store.c); keeps the heartbeat fresh, so that the BPF program applies them.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cidr.h"
#include "config.h"
#include "fleet.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "policy.h"
#include "learner.h"
#include "record.h"
#include "store.h"

#define EXIT_USAGE 2
/* Longest wait for another connection's database lock once learnd runs: far
 * below a tick, so that intake, decisions and the heartbeat never wait on the
 * disk; a tick that cannot get the lock is written by the next one. */
#define RUN_BUSY_MS 20

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: learnd [OPTIONS]\n"
		"\n"
		"Learn, per remote IP prefix, the TCP connection-setup values (initial congestion\n"
		"window, initial receive window, SYN RTO, base RTT) that make connections fastest,\n"
		"and apply them with a BPF sock_ops program attached to a cgroup v2.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE   configuration (INI); default " LEARND_DEFAULT_CONFIG ",\n"
		"                      built-in defaults when that file does not exist\n"
		"      --cgroup DIR    cgroup v2 directory whose sockets are tuned (default: config\n"
		"                      'cgroup'; required: the cgroup v2 mount itself means the whole host)\n"
		"      --db FILE       SQLite history database (default: config 'db', else\n"
		"                      " LEARND_DEFAULT_DB ")\n"
		"      --pin-dir DIR   bpffs directory for pinned maps and link (default: config\n"
		"                      'pin_dir', else " LEARND_DEFAULT_PIN_DIR ")\n"
		"      --observe-only  record and learn, but leave every connection on kernel defaults\n"
		"      --allow-root-cgroup  let --cgroup or 'cgroup' be the cgroup v2 mount itself\n"
		"                      (every socket of the host; refused without it)\n"
		"  -v, --verbose       log more: once for one line per close record, twice for libbpf's debug output\n"
		"  -V, --version       print the version and exit\n"
		"  -h, --help          print this help and exit\n"
		"\n"
		"State: the database keeps what was learned (statistics, the values in force),\n"
		"the history (decisions and 5-minute aggregates, kept retention_days; 32 raw\n"
		"records per prefix) and the operator's pins and pause (learnctl pin/pause, read\n"
		"every tick).  At start learnd resumes from it: the same values are back in the\n"
		"first tick, with the pins and pause set while it was down.  A database from a\n"
		"newer learnd, or a file that is not a learnd database, is refused (exit 2)\n"
		"before anything is written to it; one learnd per database.\n"
		"\n"
		"Signals: SIGHUP reloads the configuration (a bad one is refused and the old one\n"
		"stays); SIGTERM/SIGINT stop learnd, detach the program and remove the pins, so\n"
		"every connection is back on kernel defaults.  If learnd dies without that, the\n"
		"pinned program keeps the last values until the heartbeat TTL, then defaults.\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure (also: the database's disk full,\n"
		"another learnd on it, or the cgroup removed while learnd ran: it detaches and\n"
		"removes the pins first), 2 bad usage, bad configuration or a bad database.\n");
}

struct opts {
	const char *config, *cgroup, *db, *pin_dir;
	bool observe_only, allow_root_cgroup;
	int verbose;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_CGROUP = 256, OPT_DB, OPT_PIN_DIR, OPT_OBSERVE, OPT_ALLOW_ROOT };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "db", required_argument, NULL, OPT_DB },
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
		{ "observe-only", no_argument, NULL, OPT_OBSERVE },
		{ "allow-root-cgroup", no_argument, NULL, OPT_ALLOW_ROOT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case OPT_CGROUP: o->cgroup = optarg; break;
		case OPT_DB: o->db = optarg; break;
		case OPT_PIN_DIR: o->pin_dir = optarg; break;
		case OPT_OBSERVE: o->observe_only = true; break;
		case OPT_ALLOW_ROOT: o->allow_root_cgroup = true; break;
		case 'v': o->verbose++; break;
		case 'V': printf("learnd %s\n", LEARND_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		case ':':
			fprintf(stderr, "learnd: option '%s' needs an argument (see learnd --help)\n", argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "learnd: unknown option '%s' (see learnd --help)\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "learnd: unexpected argument '%s' (see learnd --help)\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Config file plus command-line overrides.  Returns 0 or a negative errno, with
 * the message already printed. */
static int load_config(const struct opts *o, struct ld_config *cfg)
{
	const char *path = o->config ? o->config : LEARND_DEFAULT_CONFIG;
	char err[512];
	int rc;

	if (!o->config && access(path, F_OK) != 0) {
		ld_config_init(cfg);
	} else {
		rc = ld_config_load(path, cfg, err, sizeof(err));
		if (rc) {
			ld_err("%s", err);
			return rc;
		}
	}
	if (o->cgroup)
		snprintf(cfg->cgroup, sizeof(cfg->cgroup), "%s", o->cgroup);
	if (o->db)
		snprintf(cfg->db, sizeof(cfg->db), "%s", o->db);
	if (o->pin_dir)
		snprintf(cfg->pin_dir, sizeof(cfg->pin_dir), "%s", o->pin_dir);
	if (o->observe_only)
		cfg->observe_only = true;
	if (o->allow_root_cgroup)
		cfg->allow_root_cgroup = true;
	ld_path_trim(cfg->cgroup);
	ld_path_trim(cfg->db);
	ld_path_trim(cfg->pin_dir);
	/* No default: the cgroup decides whose connections are changed, so it is
	 * always the operator's explicit choice (the mount point itself = the host). */
	if (!cfg->cgroup[0]) {
		ld_err("no cgroup to attach to: set 'cgroup' in [learnd] or pass --cgroup");
		ld_config_free(cfg);
		return -EINVAL;
	}
	/* checked here too, before the database is created for nothing */
	if (access(cfg->cgroup, F_OK)) {
		ld_err("cgroup %s: %s (create it first: mkdir %s)", cfg->cgroup, strerror(errno), cfg->cgroup);
		ld_config_free(cfg);
		return -ENOENT;
	}
	rc = ld_config_check_cgroup(cfg, err, sizeof(err));
	if (rc) {
		ld_err("%s", err);
		ld_config_free(cfg);
		return rc;
	}
	return 0;
}

struct daemon {
	struct ld_config cfg;
	struct ld_dataplane dp;
	struct ld_store *store;
	struct ld_learner *learner;
	struct ld_fleet *fleet; /* [fleet]: the link's thread; NULL: none */
	struct ring_buffer *rb;
	unsigned long long records, bad_records;
	uint64_t start_wall_ns, heartbeat_wall_ns;
	bool metrics_failing; /* logged once, until a write succeeds again */
	bool config_pending;  /* the configuration text is still to be recorded */
	uint32_t ctl_flags;   /* what the last heartbeat wrote into the control map */
	bool map_paused;      /* learnctl pause set PAUSED in the map itself */
	/* Records read from the ring while a tick runs (ld_learner_set_yield):
	 * the learner takes them after the tick. */
	bool in_tick;
	struct learnd_record *q;
	size_t nq, qcap;
	unsigned long long q_lost, q_lost_logged;
};

/* At most this many records wait for the end of a tick (152 MB): far more
 * than a tick's worth at the intake's rate; beyond it they are lost, and
 * logged, as ring-buffer drops would be. */
#define TICK_QUEUE_MAX (1u << 20)

static void enqueue(struct daemon *d, const struct learnd_record *rec)
{
	if (d->nq == d->qcap && d->qcap < TICK_QUEUE_MAX) {
		size_t cap = d->qcap ? 2 * d->qcap : 4096;
		struct learnd_record *q = realloc(d->q, cap * sizeof(*q));

		if (q) {
			d->q = q;
			d->qcap = cap;
		}
	}
	if (d->nq == d->qcap) {
		d->q_lost++;
		return;
	}
	d->q[d->nq++] = *rec;
}

/* The learner's yield during a tick: read the ring into the queue. */
static void read_ring(void *ctx)
{
	struct daemon *d = ctx;

	ring_buffer__consume(d->rb);
}

/* A tick, reading the ring meanwhile; then the records that came during it. */
static void tick(struct daemon *d)
{
	d->in_tick = d->rb != NULL;
	ld_learner_tick(d->learner); /* a store failure is logged, not fatal */
	d->in_tick = false;
	for (size_t i = 0; i < d->nq; i++)
		ld_learner_record(d->learner, &d->q[i]);
	d->nq = 0;
	if (d->q_lost > d->q_lost_logged) {
		ld_warn("%llu close records lost: more than %u arrived during a tick", d->q_lost - d->q_lost_logged,
			TICK_QUEUE_MAX);
		d->q_lost_logged = d->q_lost;
	}
}

/* What of a configuration file goes into the history: enough for any real one
 * (a few hundred [prefix] sections); a larger file is recorded cut, so that a
 * huge one is not copied into the database on every reload. */
#define CONFIG_RECORD_MAX (64 * 1024)

/* The configuration text goes into the history with every change; one that
 * cannot be written now (database locked) is tried again next tick. */
static void store_config(struct daemon *d)
{
	char *text = NULL;
	size_t cap = 0;
	bool retry = d->config_pending;
	ssize_t len;
	FILE *f;

	d->config_pending = false;
	if (!d->store || !d->cfg.path[0] || !(f = fopen(d->cfg.path, "re")))
		return;
	/* the whole file: the parser refuses NUL bytes, so none stops this early */
	len = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (len > CONFIG_RECORD_MAX) {
		static const char cut[] = "\n# (learnd: cut here, the file is longer)\n";

		memcpy(text + CONFIG_RECORD_MAX - sizeof(cut), cut, sizeof(cut));
	}
	if (len >= 0 && ld_store_put_config(d->store, ld_wall_ns(), d->cfg.path, text)) {
		if (!retry)
			ld_warn("database: configuration not recorded yet: %s (tried again every tick)",
				ld_store_errmsg(d->store));
		d->config_pending = true;
	}
	free(text);
}

struct beat {
	struct daemon *d;
	struct ld_learner_stats st;
	struct learnd_ctl ctl;
};

/* The record to write, from the one in the map (cur), under the control lock. */
static int beat_fill(struct learnd_ctl *cur, void *arg)
{
	struct beat *b = arg;
	struct daemon *d = b->d;

	/* the operator's pause lives in the database (learnctl pause), so it holds
	 * across restarts; learnctl also sets the bit in the map itself, first, so
	 * the brake works when the database cannot be written.  A PAUSED bit this
	 * learnd did not write is the operator's: kept until learnctl clears it. */
	if ((cur->flags ^ d->ctl_flags) & LEARND_CTL_PAUSED) {
		bool was = d->map_paused;

		d->map_paused = cur->flags & LEARND_CTL_PAUSED;
		if (was != d->map_paused && d->map_paused != b->st.paused)
			ld_info("operator %s learnd in the control map (the database says %s)",
				d->map_paused ? "paused" : "resumed", b->st.paused ? "paused" : "not paused");
	}
	if (b->st.paused || d->map_paused)
		b->ctl.flags |= LEARND_CTL_PAUSED;
	*cur = b->ctl;
	return 0;
}

static int heartbeat(struct daemon *d)
{
	char pin[4200];
	int err;
	struct beat b = {
		.d = d,
		.ctl = {
			.heartbeat_ns = ld_now_ns(),
			.ttl_ns = (uint64_t)d->cfg.heartbeat_ttl_ms * 1000000ull,
			.flags = d->cfg.observe_only ? LEARND_CTL_OBSERVE_ONLY : 0,
			.sample_rate = d->cfg.sample_rate,
			.record_budget = d->cfg.record_budget,
		},
	};

	ld_learner_stats(d->learner, &b.st);
	snprintf(pin, sizeof(pin), "%s/" LEARND_PIN_CTL, d->dp.pin_dir);
	/* conditional on what is in the map: a pause learnctl writes meanwhile waits
	 * for this write (20 ms at most), and is read by it, not overwritten */
	err = ld_ctl_update(ld_dp_ctl_fd(&d->dp), d->dp.pin_dir[0] ? pin : NULL, 20, beat_fill, &b);
	if (!err) {
		d->heartbeat_wall_ns = ld_wall_ns();
		d->ctl_flags = b.ctl.flags;
	}
	return err;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	struct learnd_record rec;
	char line[768];

	if (ld_record_decode(data, size, &rec)) {
		d->bad_records++;
		return 0;
	}
	d->records++;
	if (ld_log_enabled(LOG_DEBUG)) {
		ld_record_format(&rec, line, sizeof(line));
		ld_debug("%s", line);
	}
	if (d->in_tick)
		enqueue(d, &rec);
	else
		ld_learner_record(d->learner, &rec);
	return 0;
}

static int busy_ms(const struct ld_config *cfg)
{
	return cfg->tick_ms / 4 < RUN_BUSY_MS ? (int)cfg->tick_ms / 4 : RUN_BUSY_MS;
}

static void reload(struct daemon *d, const struct opts *o)
{
	struct ld_config next, old;
	char changed[256];

	if (load_config(o, &next)) {
		ld_err("configuration not reloaded; the previous one stays in force");
		return;
	}
	/* keep what only a restart can change (the key table says which) */
	ld_config_keep_restart(&next, &d->cfg, changed, sizeof(changed));
	if (changed[0])
		ld_warn("%s: changes take effect at the next start", changed);
	/* (so are [fleet]'s keys, and the section itself: the link took its copy at start) */
	if (next.fleet.enabled != d->cfg.fleet.enabled) {
		ld_warn("[fleet] %s: takes effect at the next start", next.fleet.enabled ? "added" : "removed");
		next.fleet.enabled = d->cfg.fleet.enabled;
	}
	old = d->cfg;
	d->cfg = next;
	ld_learner_set_config(d->learner, &d->cfg);
	ld_store_busy_timeout(d->store, busy_ms(&d->cfg));
	ld_config_free(&old);
	store_config(d);
	heartbeat(d);
	ld_info("configuration reloaded from %s", d->cfg.path[0] ? d->cfg.path : "(built-in defaults)");
}

/* Ring-buffer drops, from the data plane's counters: logged when they grow. */
static void check_drops(const uint64_t c[LEARND_CNT__MAX], uint64_t *last)
{
	if (c[LEARND_CNT_RB_DROPS] > *last)
		ld_warn("%llu close records dropped: ring buffer full (raise ringbuf_kb or sample_rate)",
			(unsigned long long)(c[LEARND_CNT_RB_DROPS] - *last));
	*last = c[LEARND_CNT_RB_DROPS];
}

/* The Prometheus textfile (metrics_file): a failure is logged once, not every tick. */
static void write_metrics(struct daemon *d, const uint64_t *counters)
{
	struct ld_metrics m = {
		.records = d->records,
		.bad_records = d->bad_records,
		.have_counters = counters != NULL,
		.policy_capacity = d->cfg.max_prefixes,
		.heartbeat_wall_ns = d->heartbeat_wall_ns,
		.start_wall_ns = d->start_wall_ns,
		.observe_only = d->cfg.observe_only,
	};
	int err;

	ld_learner_stats(d->learner, &m.st);
	if (counters)
		memcpy(m.counter, counters, sizeof(m.counter));
	err = ld_metrics_write(d->cfg.metrics_file, &m);
	if (err && !d->metrics_failing)
		ld_warn("metrics_file %s: %s (not written until this is fixed)", d->cfg.metrics_file, strerror(-err));
	else if (!err && d->metrics_failing)
		ld_info("metrics_file %s: written again", d->cfg.metrics_file);
	d->metrics_failing = err != 0;
}

static int run(struct daemon *d, const struct opts *o)
{
	/* the start made the first tick (main): the next one is a tick later */
	uint64_t next_tick = ld_now_ns() + (uint64_t)d->cfg.tick_ms * 1000000ull, drops = 0,
		 counters[LEARND_CNT__MAX];
	bool have_counters;
	int err;

	while (!stop_requested) {
		uint64_t now = ld_now_ns();
		/* short polls: the ring buffer is drained far faster than it fills; and
		 * never past the next tick, so that tick_ms below the poll's 50 ms holds */
		int wait_ms = next_tick <= now ? 0 : next_tick - now >= 50000000ull ? 50 :
			      (int)((next_tick - now + 999999) / 1000000);

		err = ring_buffer__poll(d->rb, wait_ms);
		/* the program wakes us only when the ring is a quarter full: take
		 * whatever is there after every wait */
		if (err >= 0 || err == -EINTR)
			err = ring_buffer__consume(d->rb);
		if (err < 0 && err != -EINTR) {
			ld_err("ring buffer: %s", strerror(-err));
			return err;
		}
		if (reload_requested) {
			reload_requested = 0;
			/* systemd (Type=notify): reloading until READY=1 again, also after a
			 * refused configuration (the old one stays in force) */
			ld_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(ld_now_ns() / 1000));
			reload(d, o);
			ld_notify("READY=1");
		}
		if (ld_now_ns() >= next_tick) {
			/* the cgroup is what learnd tunes: gone, nothing is tuned any more */
			if (!ld_dp_cgroup_alive(&d->dp, d->cfg.cgroup))
				return -ENOENT;
			tick(d);
			if (ld_store_lost(d->store))
				return -ESTALE; /* its files removed or replaced: logged by the store */
			if (d->config_pending)
				store_config(d);
			err = heartbeat(d);
			if (err)
				ld_warn("heartbeat: %s", strerror(-err));
			have_counters = !ld_counters_read(ld_dp_counters_fd(&d->dp), counters);
			if (have_counters)
				check_drops(counters, &drops);
			if (d->cfg.metrics_file[0])
				write_metrics(d, have_counters ? counters : NULL);
			next_tick = ld_now_ns() + (uint64_t)d->cfg.tick_ms * 1000000ull;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct daemon d;
	struct sigaction sa;
	char msg[600];
	int err;

	memset(&d, 0, sizeof(d));
	d.start_wall_ns = ld_wall_ns();
	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	ld_log_init("learnd", o.verbose);
	if (load_config(&o, &d.cfg))
		return EXIT_USAGE;

	/* the database first: a corrupt or foreign one is bad input (exit 2), and
	 * nothing is attached before it is known to be usable */
	err = ld_store_open(d.cfg.db, &d.store, msg, sizeof(msg));
	if (err) {
		ld_err("%s", msg);
		ld_config_free(&d.cfg);
		return err == -EPROTO || err == -EILSEQ || err == -EINVAL ? EXIT_USAGE : 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	struct ld_dp_opts dpo = {
		.cgroup = d.cfg.cgroup,
		.pin_dir = d.cfg.pin_dir,
		.max_prefixes = d.cfg.max_prefixes,
		.ringbuf_kb = d.cfg.ringbuf_kb,
	};
	err = ld_dp_open(&d.dp, &dpo);
	if (err)
		goto out;
	d.learner = ld_learner_new(&d.cfg, d.store, ld_dp_policy_fd(&d.dp));
	if (!d.learner) {
		err = -ENOMEM;
		goto out;
	}
	store_config(&d);
	if (d.cfg.fleet.enabled) { /* its own thread: nothing of it is ever in a tick's path */
		d.fleet = ld_fleet_start(&d.cfg.fleet, LEARND_VERSION);
		if (!d.fleet)
			ld_err("fleet: link not started; learning alone");
		ld_learner_set_fleet(d.learner, d.fleet);
	}
	/* policies (restored or configured) in the map before the heartbeat says so */
	ld_learner_tick(d.learner);
	ld_store_busy_timeout(d.store, busy_ms(&d.cfg));
	d.rb = ring_buffer__new(ld_dp_records_fd(&d.dp), on_record, &d, NULL);
	if (!d.rb) {
		err = -errno;
		ld_err("ring buffer: %s", strerror(-err));
		goto out;
	}
	ld_learner_set_yield(d.learner, read_ring, &d);
	err = heartbeat(&d);
	if (err)
		goto out;
	ld_info("attached to %s (%zu configured prefixes, sample 1/%u, ttl %u ms%s)", d.cfg.cgroup,
		d.cfg.nprefixes, d.cfg.sample_rate, d.cfg.heartbeat_ttl_ms, d.cfg.observe_only ? ", observe-only" : "");
	/* systemd (Type=notify): attached, policies restored and in the map */
	ld_notifyf("READY=1\nSTATUS=attached to %s", d.cfg.cgroup);
	err = run(&d, &o);
	ld_notify("STOPPING=1");
	ring_buffer__poll(d.rb, 0); /* what is still in the ring */
	ld_learner_set_yield(d.learner, NULL, NULL); /* the flush reads no more of it */
	if (ld_learner_flush(d.learner))
		ld_err("database: the last tick's history could not be written");
	ld_info("stopping: %llu records", d.records);
out:
	ring_buffer__free(d.rb);
	ld_learner_set_fleet(d.learner, NULL);
	ld_fleet_stop(d.fleet);
	ld_learner_free(d.learner);
	free(d.q);
	/* a clean stop detaches: every connection is back on kernel defaults at once */
	ld_dp_close(&d.dp, true);
	ld_store_close(d.store);
	ld_config_free(&d.cfg);
	return err ? 1 : 0;
}
