// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Data-plane overhead: new TCP connections per second on loopback in a network
 * namespace of our own, with learnd's sock_ops program attached to the
 * benchmark's cgroup and without, alternating in one run (off/on, on/off, ...),
 * for four cases: no matching prefix, a matching prefix with all four values
 * set, and that prefix with every connection sampled (records drained by a
 * consumer thread) or 1 in 64, and learnd's default configuration (sample_rate
 * 1 with record_budget LEARND_RECORD_BUDGET_DEFAULT).  Then, per case, the
 * program's run time per invocation (run_time_ns / run_cnt) with BPF run-time
 * statistics enabled through BPF_ENABLE_STATS, which the kernel turns off again
 * when its fd is closed, also if this process dies.
 *
 * The listener is made in the cgroup's child "srv", the clients' sockets in its
 * child "cli" (a socket keeps the cgroup of the task that made it; accepted ones
 * the listener's).  "Both ends" cases attach the program to the parent, so each
 * connection runs it on the client's active socket and the server's passive
 * one; "server side only" cases attach it to "srv".
 *
 * Usage: bench_dataplane [-r ROUNDS] [-t SECS] [-s STATS_SECS] [-c CLIENTS] [-S SERVERS] [-C CASES]
 *   -C: comma-separated case numbers (as printed; default all)
 * Root only.  Exit: 0 ran, 1 failure, 2 usage, 77 not root.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"
#include "cidr.h"
#include "learnd.skel.h"
#include "log.h"

#define SRV "10.1.0.1"
#define CLI "10.2.0.1"
#define PORT 8080

static int rounds = 5, nclients = 2, nservers = 2;
static double secs = 3.0, stats_secs = 3.0;

static struct ld_dataplane dp;
static int cgfd = -1, srvfd = -1; /* the benchmark's cgroup (both ends) and its "srv" child */
static const char *only; /* -C */

/* ---- records consumer ---- */

static atomic_bool consumer_stop;
static _Atomic uint64_t consumed;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	atomic_fetch_add(&consumed, 1);
	return 0;
}

static void *consumer_main(void *arg)
{
	struct ring_buffer *rb = arg;

	while (!atomic_load(&consumer_stop)) { /* woken only at a quarter full: consume too, as learnd does */
		ring_buffer__poll(rb, 50);
		ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);
	return NULL;
}

/* ---- attach / detach ---- */

static void set_attached(bool on, bool server_only)
{
	if (on && !dp.link) {
		dp.link = bpf_program__attach_cgroup(dp.skel->progs.learnd_sockops, server_only ? srvfd : cgfd);
		if (!dp.link)
			BENCH_DIE("attach: %s", strerror(errno));
	} else if (!on && dp.link) {
		bpf_link__destroy(dp.link);
		dp.link = NULL;
	}
}

/* ---- policies ---- */

static void clear_policies(void)
{
	int fd = ld_dp_policy_fd(&dp);
	struct learnd_key key, next;

	while (bpf_map_get_next_key(fd, NULL, &next) == 0) {
		key = next;
		if (bpf_map_delete_elem(fd, &key))
			BENCH_DIE("delete: %s", strerror(errno));
	}
}

static void put_policy(const char *cidr, uint32_t id)
{
	struct learnd_policy p = {
		.prefix_id = id,
		.epoch = 1,
		.nslots = 1,
		.slots[0] = { .share = LEARND_SHARE_ONE, .iw = 16, .rwnd = 20, .syn_rto_ms = 1000, .base_rtt_us = 100 },
	};
	struct learnd_key key;
	char err[128];

	if (ld_cidr_parse(cidr, &key, err, sizeof(err)))
		BENCH_DIE("%s: %s", cidr, err);
	if (bpf_map_update_elem(ld_dp_policy_fd(&dp), &key, &p, BPF_ANY))
		BENCH_DIE("policy %s: %s", cidr, strerror(errno));
}

static void set_ctl(uint32_t sample_rate, uint32_t budget)
{
	struct learnd_ctl ctl = {
		.heartbeat_ns = ld_now_ns(),
		.ttl_ns = 3600ull * 1000000000, /* fresh for the whole run */
		.sample_rate = sample_rate,
		.record_budget = budget,
	};

	if (ld_ctl_write(ld_dp_ctl_fd(&dp), &ctl))
		BENCH_DIE("cannot write the control map");
}

/* ---- cases ---- */

struct bcase {
	const char *name;
	bool match, server_only, is_default; /* is_default: learnd's default configuration */
	uint32_t sample_rate, budget;
	bool ran;
	/* results */
	double off_sum, on_sum, rmin, rmax, ratios[64];
	double ns_op, ops_conn, ns_conn, stats_rate, lookups_conn;
	uint64_t records, drops, lookups, misses, consumed;
};

#define DEFAULT_CTL .sample_rate = 1, .budget = LEARND_RECORD_BUDGET_DEFAULT, .is_default = true

static struct bcase cases[] = {
	{ .name = "no matching prefix, sample_rate 0", .match = false, .sample_rate = 0 },
	{ .name = "matching prefix (4 values), rate 0", .match = true, .sample_rate = 0 },
	{ .name = "matching prefix, every connection recorded", .match = true, .sample_rate = 1 },
	{ .name = "matching prefix, sample_rate 64", .match = true, .sample_rate = 64 },
	{ .name = "matching prefix, default config", .match = true, DEFAULT_CTL },
	{ .name = "server side only, every connection recorded", .match = true, .sample_rate = 1, .server_only = true },
	{ .name = "server side only, default config", .match = true, DEFAULT_CTL, .server_only = true },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void run_case(struct bench_traffic *t, struct bcase *c)
{
	uint64_t cnt0[LEARND_CNT__MAX], cnt1[LEARND_CNT__MAX], cs0[LEARND_CNT__MAX], cs1[LEARND_CNT__MAX];
	uint64_t rt0, rc0, rt1, rc1, n0, n1, cons0;
	double t0, t1;
	int stats_fd;

	set_attached(false, false);
	clear_policies();
	/* the trie is never empty: a miss walks a real trie */
	put_policy("192.0.2.0/24", 100);
	put_policy("2001:db8:1::/48", 101);
	if (c->match)
		put_policy("10.0.0.0/8", 1); /* both ends: 10.1.0.1 and 10.2.0.1 */
	set_ctl(c->sample_rate, c->budget);
	if (ld_counters_read(ld_dp_counters_fd(&dp), cnt0))
		BENCH_DIE("counters");
	cons0 = atomic_load(&consumed);

	c->rmin = 1e9;
	c->rmax = 0;
	printf("%d. %s\n", (int)(c - cases) + 1, c->name);
	for (int r = 0; r < rounds; r++) {
		double rate[2]; /* [0] off, [1] on */

		for (int k = 0; k < 2; k++) {
			bool on = (r & 1) ? k == 0 : k == 1; /* off,on then on,off: ABBA */

			set_attached(on, c->server_only);
			bench_sleep(0.3); /* settle: connections of the previous phase finish */
			rate[on] = bench_rate(t, secs);
		}
		if (r < 64)
			c->ratios[r] = rate[1] / rate[0];
		c->off_sum += rate[0];
		c->on_sum += rate[1];
		if (rate[1] / rate[0] < c->rmin)
			c->rmin = rate[1] / rate[0];
		if (rate[1] / rate[0] > c->rmax)
			c->rmax = rate[1] / rate[0];
		printf("  round %d: off %8.0f  on %8.0f  ratio %.3f\n", r + 1, rate[0], rate[1], rate[1] / rate[0]);
	}

	/* run time per invocation, with statistics on (they cost a little themselves) */
	set_attached(true, c->server_only);
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		BENCH_DIE("BPF_ENABLE_STATS: %s", strerror(errno));
	bench_sleep(0.3);
	if (bench_prog_stats(bpf_program__fd(dp.skel->progs.learnd_sockops), &rt0, &rc0) ||
	    ld_counters_read(ld_dp_counters_fd(&dp), cs0))
		BENCH_DIE("prog info");
	n0 = bench_traffic_count(t);
	t0 = bench_now_s();
	bench_sleep(stats_secs);
	if (bench_prog_stats(bpf_program__fd(dp.skel->progs.learnd_sockops), &rt1, &rc1) ||
	    ld_counters_read(ld_dp_counters_fd(&dp), cs1))
		BENCH_DIE("prog info");
	n1 = bench_traffic_count(t);
	t1 = bench_now_s();
	close(stats_fd);
	set_attached(false, false);
	bench_sleep(0.3);

	if (ld_counters_read(ld_dp_counters_fd(&dp), cnt1))
		BENCH_DIE("counters");
	c->ns_op = rc1 > rc0 ? (double)(rt1 - rt0) / (double)(rc1 - rc0) : 0;
	c->ops_conn = n1 > n0 ? (double)(rc1 - rc0) / (double)(n1 - n0) : 0;
	c->ns_conn = n1 > n0 ? (double)(rt1 - rt0) / (double)(n1 - n0) : 0;
	c->stats_rate = (double)(n1 - n0) / (t1 - t0);
	c->lookups_conn = n1 > n0 ? (double)(cs1[LEARND_CNT_LOOKUPS] - cs0[LEARND_CNT_LOOKUPS]) / (double)(n1 - n0) : 0;
	c->records = cnt1[LEARND_CNT_RECORDS] - cnt0[LEARND_CNT_RECORDS];
	c->drops = cnt1[LEARND_CNT_RB_DROPS] - cnt0[LEARND_CNT_RB_DROPS];
	c->lookups = cnt1[LEARND_CNT_LOOKUPS] - cnt0[LEARND_CNT_LOOKUPS];
	c->misses = cnt1[LEARND_CNT_MISSES] - cnt0[LEARND_CNT_MISSES];
	c->consumed = atomic_load(&consumed) - cons0;
	c->ran = true;
	printf("  run time: %.0f ns/op, %.2f ops/conn, %.0f ns/conn, %.2f trie lookups/conn (%.0f conn/s with stats on)\n",
	       c->ns_op, c->ops_conn, c->ns_conn, c->lookups_conn, c->stats_rate);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool selected(int n)
{
	const char *p = only;

	if (!p)
		return true;
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			return false;
		if (v == n)
			return true;
		p = *end == ',' ? end + 1 : end;
	}
	return false;
}

/* Other sock_ops programs in effect here (attached to a cgroup above ours) run
 * on every socket of both phases and take the last word on every reply. */
static void warn_foreign(int fd)
{
	__u32 ids[16], cnt = 16, flags = 0;

	if (bpf_prog_query(fd, BPF_CGROUP_SOCK_OPS, BPF_F_QUERY_EFFECTIVE, &flags, ids, &cnt) == 0 && cnt)
		printf("WARNING: %u sock_ops program(s) attached above the benchmark's cgroup (first id %u) run in both "
		       "phases: the numbers include them\n",
		       cnt, ids[0]);
}

static int open_child_cgroup(const char *cgroup, const char *name, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", cgroup, name);
	if (mkdir(path, 0755) && errno != EEXIST)
		BENCH_DIE("mkdir %s: %s", path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		BENCH_DIE("%s: %s", path, strerror(errno));
	return fd;
}

static int child(const char *cgroup, void *arg)
{
	char srv_cg[4200], cli_cg[4200];
	int clifd;
	struct ld_dp_opts opts = { .cgroup = cgroup, .pin_dir = NULL, .max_prefixes = 65536, .ringbuf_kb = 4096 };
	struct bench_traffic_opts to = {
		.server = SRV, .client = CLI, .port = PORT,
		.clients = nclients, .servers = nservers, .req_bytes = 64, .resp_bytes = 64,
		.client_cgroup = cli_cg,
	};
	struct bench_traffic *t;
	struct ring_buffer *rb;
	pthread_t consumer;
	uint64_t errs;
	bool met = true;

	(void)arg;
	ld_log_init("bench_dataplane", 0);
	if (ld_dp_open(&dp, &opts))
		BENCH_DIE("cannot load and attach the data plane");
	cgfd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		BENCH_DIE("%s: %s", cgroup, strerror(errno));
	srvfd = open_child_cgroup(cgroup, "srv", srv_cg, sizeof(srv_cg));
	clifd = open_child_cgroup(cgroup, "cli", cli_cg, sizeof(cli_cg));
	close(clifd);
	rb = ring_buffer__new(ld_dp_records_fd(&dp), on_record, NULL, NULL);
	if (!rb)
		BENCH_DIE("ring_buffer__new: %s", strerror(errno));
	if (pthread_create(&consumer, NULL, consumer_main, rb))
		BENCH_DIE("pthread_create");
	set_attached(false, false);
	warn_foreign(cgfd);

	bench_join_cgroup(srv_cg); /* the listener's cgroup; bench_traffic_start moves us to cli_cg */
	t = bench_traffic_start(&to);
	bench_sleep(1.0); /* warm-up */
	for (size_t i = 0; i < NCASES; i++)
		if (selected((int)i + 1))
			run_case(t, &cases[i]);
	errs = bench_traffic_errors(t);
	bench_traffic_stop(t);
	atomic_store(&consumer_stop, true);
	pthread_join(consumer, NULL);
	ring_buffer__free(rb);
	close(cgfd);
	close(srvfd);
	ld_dp_close(&dp, true);

	printf("\nData-plane overhead: %d rounds x (%.1f s off + %.1f s on), alternating; %d client + %d server "
	       "threads; 64 B request, 64 B answer; IPv4 loopback\n",
	       rounds, secs, secs, nclients, nservers);
	printf("| # | case | conn/s off | conn/s on | ratio of means | median round ratio (min–max) | run time ns/op | "
	       "ops/conn | lookups/conn | ns/conn | BPF ms per s | records | ringbuf drops |\n");
	printf("| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (size_t i = 0; i < NCASES; i++) {
		struct bcase *c = &cases[i];
		double ratio = c->on_sum / c->off_sum, want = c->server_only ? 0.98 : 0.97;

		if (!c->ran)
			continue;
		printf("| %zu | %s | %.0f | %.0f | %.3f | %.3f (%.3f–%.3f) | %.0f | %.2f | %.2f | %.0f | %.1f | %llu | %llu |\n",
		       i + 1, c->name, c->off_sum / rounds, c->on_sum / rounds, ratio,
		       median(c->ratios, rounds < 64 ? rounds : 64), c->rmin, c->rmax, c->ns_op, c->ops_conn,
		       c->lookups_conn, c->ns_conn,
		       c->ns_conn * c->on_sum / rounds / 1e6, (unsigned long long)c->records,
		       (unsigned long long)c->drops);
		if (c->is_default && (ratio < want || c->ns_op > 200 || c->drops))
			met = false;
	}
	printf("\nBPF ms per s: program run time per second of the 'on' phases (ns/conn x conn/s on), of %ld CPUs\n",
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("targets for the default config (ratio of means >= 0.97 both ends, >= 0.98 server side only; "
	       "<= 200 ns/op; no drops): %s\n",
	       met ? "met" : "NOT met");
	printf("records consumed by the consumer thread: ");
	for (size_t i = 0; i < NCASES; i++)
		if (cases[i].ran)
			printf("%s%llu", i ? ", " : "", (unsigned long long)cases[i].consumed);
	printf("; connection errors: %llu\n", (unsigned long long)errs);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const addrs[] = { SRV "/32", CLI "/32", NULL };
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "r:t:s:c:S:C:h")) != -1) {
		switch (opt) {
		case 'r': rounds = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 's': stats_secs = atof(optarg); break;
		case 'c': nclients = atoi(optarg); break;
		case 'S': nservers = atoi(optarg); break;
		case 'C': only = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-r ROUNDS] [-t SECS] [-s STATS_SECS] [-c CLIENTS] [-S SERVERS] [-C CASES]\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (rounds < 1 || secs <= 0 || stats_secs <= 0 || nclients < 1 || nservers < 1) {
		fprintf(stderr, "%s: bad option value\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		printf("skipped: needs root (BPF, cgroups, network namespaces)\n");
		return 77;
	}
	{
		FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
		int v = -1;

		if (f && fscanf(f, "%d", &v) != 1)
			v = -1;
		if (f)
			fclose(f);
		if (v == 1)
			printf("note: kernel.bpf_stats_enabled is already 1: the 'on' phases include the statistics' cost\n");
	}
	return bench_isolated("dataplane", addrs, child, NULL);
}
