// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Scale: the policy map (LPM trie) with up to 1,000,000 prefixes, half IPv4 /24
 * (v4-mapped, prefixlen 120) and half IPv6 /48, loaded with max_prefixes =
 * 1,000,000 through learnd's loader.  Measures:
 *   - time to write them one bpf_map_update_elem() at a time (into the program's
 *     map), to overwrite all of them again (what a learner tick does to changed
 *     policies), and with bpf_map_update_batch() into a second, identical map;
 *   - memory: the map's memlock from /proc/self/fdinfo (the kernel's own
 *     estimate, map_mem_usage) and the change of Slab/Percpu/Vmalloc in
 *     /proc/meminfo (noisy: the whole machine's);
 *   - lookup cost as the program sees it: run_time_ns / run_cnt over loopback
 *     connections to a matching and to a non-matching address, IPv4 and IPv6,
 *     with 0, 1k, 100k and 1M prefixes present (sample_rate 0: no records);
 *   - sizeof(struct learnd_model), the learner's memory per prefix that has a model
 *     (tools/bench/intake.sh --scale measures the learner's memory as a whole).
 *
 * Address plan: IPv4 prefix k is 11.0.0.0 + (2k << 8)/24, IPv6 prefix k is
 * fc00:(2k >> 16):(2k & 0xffff)::/48; the odd /24s and /48s are never present,
 * so a miss walks the trie as deep as a hit.  Prefixes are written interleaved
 * (v4 k, v6 k), so every checkpoint holds both halves and the first two of each.
 *   match v4: server 11.0.0.1  client 11.0.2.1    miss v4: 11.0.1.1 / 11.0.3.1
 *   match v6: fc00::1          fc00:0:2::1        miss v6: fc00:0:1::1 / fc00:0:3::1
 *
 * Usage: bench_scale [-n PREFIXES] [-s STATS_SECS] [-c CLIENTS] [-S SERVERS]
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"
#include "learnd.skel.h"
#include "log.h"
#include "model.h"

static uint32_t nprefixes = 1000000;
static double stats_secs = 2.0;
static int nclients = 2, nservers = 2;

static struct ld_dataplane dp;

static void key_of(uint32_t i, struct learnd_key *k)
{
	uint32_t n = i / 2, v = 2 * n; /* even /24s and /48s only */

	memset(k, 0, sizeof(*k));
	if (i % 2 == 0) { /* IPv4 /24, v4-mapped */
		uint32_t a = 0x0B000000u + (v << 8);

		k->prefixlen = 96 + 24;
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		k->addr[12] = (uint8_t)(a >> 24);
		k->addr[13] = (uint8_t)(a >> 16);
		k->addr[14] = (uint8_t)(a >> 8);
		k->addr[15] = 0;
	} else { /* IPv6 /48: fc00:HHHH:LLLL::/48 */
		k->prefixlen = 48;
		k->addr[0] = 0xfc;
		k->addr[2] = (uint8_t)(v >> 24);
		k->addr[3] = (uint8_t)(v >> 16);
		k->addr[4] = (uint8_t)(v >> 8);
		k->addr[5] = (uint8_t)v;
	}
}

static void val_of(uint32_t i, struct learnd_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->prefix_id = i + 1;
	p->epoch = 1;
	p->nslots = 1;
	p->slots[0] = (struct learnd_arm){ .share = LEARND_SHARE_ONE, .iw = 16, .rwnd = 20, .syn_rto_ms = 1000,
					   .base_rtt_us = 100 };
}

/* Write prefixes [from, to) one at a time; seconds taken. */
static double write_range(int fd, uint32_t from, uint32_t to, __u64 flags)
{
	struct learnd_key k;
	struct learnd_policy p;
	double t0 = bench_now_s();

	for (uint32_t i = from; i < to; i++) {
		key_of(i, &k);
		val_of(i, &p);
		if (bpf_map_update_elem(fd, &k, &p, flags))
			BENCH_DIE("update %u of %u: %s", i, to, strerror(errno));
	}
	return bench_now_s() - t0;
}

struct lk {
	const char *name, *server, *client;
	int port;
	double ns_op[8], ns_conn[8], ops_conn[8], lookups_conn[8], hit[8];
};

static struct lk lks[] = {
	{ .name = "IPv4 match", .server = "11.0.0.1", .client = "11.0.2.1", .port = 9001 },
	{ .name = "IPv4 miss", .server = "11.0.1.1", .client = "11.0.3.1", .port = 9002 },
	{ .name = "IPv6 match", .server = "fc00::1", .client = "fc00:0:2::1", .port = 9003 },
	{ .name = "IPv6 miss", .server = "fc00:0:1::1", .client = "fc00:0:3::1", .port = 9004 },
};
#define NLK (sizeof(lks) / sizeof(lks[0]))

static void measure_lookups(int col)
{
	int prog_fd = bpf_program__fd(dp.skel->progs.learnd_sockops);

	for (size_t i = 0; i < NLK; i++) {
		struct bench_traffic_opts to = {
			.server = lks[i].server, .client = lks[i].client, .port = lks[i].port,
			.clients = nclients, .servers = nservers, .req_bytes = 64, .resp_bytes = 64,
		};
		uint64_t c0[LEARND_CNT__MAX], c1[LEARND_CNT__MAX], rt0, rc0, rt1, rc1, n0, n1;
		struct bench_traffic *t = bench_traffic_start(&to);

		bench_sleep(0.3);
		if (bench_prog_stats(prog_fd, &rt0, &rc0) || ld_counters_read(ld_dp_counters_fd(&dp), c0))
			BENCH_DIE("stats");
		n0 = bench_traffic_count(t);
		bench_sleep(stats_secs);
		if (bench_prog_stats(prog_fd, &rt1, &rc1) || ld_counters_read(ld_dp_counters_fd(&dp), c1))
			BENCH_DIE("stats");
		n1 = bench_traffic_count(t);
		bench_traffic_stop(t);
		if (n1 <= n0 || rc1 <= rc0)
			BENCH_DIE("%s: no connections", lks[i].name);
		lks[i].ns_op[col] = (double)(rt1 - rt0) / (double)(rc1 - rc0);
		lks[i].ns_conn[col] = (double)(rt1 - rt0) / (double)(n1 - n0);
		lks[i].ops_conn[col] = (double)(rc1 - rc0) / (double)(n1 - n0);
		lks[i].lookups_conn[col] = (double)(c1[LEARND_CNT_LOOKUPS] - c0[LEARND_CNT_LOOKUPS]) / (double)(n1 - n0);
		{
			double lk = (double)(c1[LEARND_CNT_LOOKUPS] - c0[LEARND_CNT_LOOKUPS]);
			double miss = (double)(c1[LEARND_CNT_MISSES] - c0[LEARND_CNT_MISSES]);

			lks[i].hit[col] = lk > 0 ? 1.0 - miss / lk : 0;
		}
		printf("  %-10s %6.0f ns/op  %5.2f ops/conn  %6.0f ns/conn  %4.2f lookups/conn  hit %.2f  (%.0f conn/s)\n",
		       lks[i].name, lks[i].ns_op[col], lks[i].ops_conn[col], lks[i].ns_conn[col],
		       lks[i].lookups_conn[col], lks[i].hit[col], (double)(n1 - n0) / stats_secs);
	}
}

static int child(const char *cgroup, void *arg)
{
	struct ld_dp_opts opts = { .cgroup = cgroup, .pin_dir = NULL, .max_prefixes = nprefixes, .ringbuf_kb = 4096 };
	uint32_t checkpoints[8] = { 0, 1000, 100000, 1000000 }, written = 0;
	int ncp = 4, fd, stats_fd, bfd;
	struct learnd_ctl ctl = { .heartbeat_ns = ld_now_ns(), .ttl_ns = 3600ull * 1000000000, .sample_rate = 0 };
	struct bench_meminfo m0, m1;
	long long memlock[8] = { 0 };
	double wtime = 0, overwrite_s, batch_s = -1;
	int batch_err = 0;
	uint32_t batch_n = 0;

	(void)arg;
	for (int i = 0; i < ncp; i++)
		if (checkpoints[i] > nprefixes)
			checkpoints[i] = nprefixes;
	ld_log_init("bench_scale", 0);
	bench_meminfo(&m0);
	if (ld_dp_open(&dp, &opts))
		BENCH_DIE("cannot load and attach the data plane");
	if (ld_ctl_write(ld_dp_ctl_fd(&dp), &ctl))
		BENCH_DIE("ctl");
	fd = ld_dp_policy_fd(&dp);
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		BENCH_DIE("BPF_ENABLE_STATS: %s", strerror(errno));

	for (int c = 0, total = ncp; c < total; c++) {
		if (c > 0 && checkpoints[c] == checkpoints[c - 1])
			break;
		wtime += write_range(fd, written, checkpoints[c], BPF_NOEXIST);
		written = checkpoints[c];
		memlock[c] = bench_fd_memlock(fd);
		printf("%u prefixes present (written in %.3f s so far; map memlock %lld bytes)\n", written, wtime,
		       memlock[c]);
		measure_lookups(c);
		ncp = c + 1;
	}
	close(stats_fd);
	bench_meminfo(&m1);

	/* overwrite every entry, as a learner tick rewrites changed policies */
	overwrite_s = write_range(fd, 0, written, BPF_EXIST);

	/* the batch interface, into a second map of the same shape */
	{
		LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC);
		LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = 0); /* only BPF_F_LOCK is allowed here */
		const uint32_t chunk = 4096;
		struct learnd_key *keys = calloc(chunk, sizeof(*keys));
		struct learnd_policy *vals = calloc(chunk, sizeof(*vals));
		double t0;

		bfd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "bench_batch", sizeof(struct learnd_key),
				     sizeof(struct learnd_policy), nprefixes, &mo);
		if (bfd < 0 || !keys || !vals)
			BENCH_DIE("second map: %s", strerror(errno));
		t0 = bench_now_s();
		for (uint32_t i = 0; i < written && !batch_err; i += chunk) {
			__u32 n = written - i < chunk ? written - i : chunk;

			for (uint32_t j = 0; j < n; j++) {
				key_of(i + j, &keys[j]);
				val_of(i + j, &vals[j]);
			}
			if (bpf_map_update_batch(bfd, keys, vals, &n, &bo))
				batch_err = errno;
			else
				batch_n += n;
		}
		batch_s = bench_now_s() - t0;
		close(bfd);
		free(keys);
		free(vals);
	}

	printf("\nScale: policy map (LPM trie, BPF_F_NO_PREALLOC), max_prefixes = %u; prefixes half IPv4 /24, "
	       "half IPv6 /48\n\n",
	       nprefixes);
	printf("| operation | prefixes | time | per prefix |\n| --- | ---: | ---: | ---: |\n");
	printf("| bpf_map_update_elem, new keys | %u | %.3f s | %.2f µs |\n", written, wtime,
	       written ? wtime * 1e6 / written : 0);
	printf("| bpf_map_update_elem, overwrite existing | %u | %.3f s | %.2f µs |\n", written, overwrite_s,
	       written ? overwrite_s * 1e6 / written : 0);
	if (batch_err)
		printf("| bpf_map_update_batch (4096 per call) | %u of %u | failed: %s | – |\n", batch_n, written,
		       strerror(batch_err));
	else
		printf("| bpf_map_update_batch, 4096 per call, new keys | %u | %.3f s | %.2f µs |\n", batch_n, batch_s,
		       batch_n ? batch_s * 1e6 / batch_n : 0);

	printf("\n| prefixes | map memlock (fdinfo) | per prefix |\n| ---: | ---: | ---: |\n");
	for (int c = 0; c < ncp; c++)
		printf("| %u | %.1f MiB | %.0f B |\n", checkpoints[c], memlock[c] / 1048576.0,
		       checkpoints[c] ? (double)memlock[c] / checkpoints[c] : 0);
	printf("\nkernel memory change over the run, /proc/meminfo (whole machine): Slab %+ld kB (SUnreclaim %+ld kB), "
	       "Percpu %+ld kB, VmallocUsed %+ld kB; per prefix (Slab+Percpu+Vmalloc): %.0f B\n",
	       m1.slab_kb - m0.slab_kb, m1.sunreclaim_kb - m0.sunreclaim_kb, m1.percpu_kb - m0.percpu_kb,
	       m1.vmalloc_kb - m0.vmalloc_kb,
	       written ? (double)((m1.slab_kb - m0.slab_kb) + (m1.percpu_kb - m0.percpu_kb) +
				  (m1.vmalloc_kb - m0.vmalloc_kb)) * 1024.0 / written
		       : 0);

	printf("\nProgram run time per invocation, ns (sample_rate 0; %d client + %d server threads, %.1f s each)\n\n",
	       nclients, nservers, stats_secs);
	printf("| connections | ");
	for (int c = 0; c < ncp; c++)
		printf("%u prefixes | ", checkpoints[c]);
	printf("\n| --- | ");
	for (int c = 0; c < ncp; c++)
		printf("---: | ");
	printf("\n");
	for (size_t i = 0; i < NLK; i++) {
		printf("| %s | ", lks[i].name);
		for (int c = 0; c < ncp; c++)
			printf("%.0f ns/op (%.0f ns/conn, hit %.0f%%) | ", lks[i].ns_op[c], lks[i].ns_conn[c],
			       100 * lks[i].hit[c]);
		printf("\n");
	}
	printf("\nlookups per connection: %.2f (active CONNECT_CB; passive TIMEOUT_INIT, RWND_INIT, "
	       "PASSIVE_ESTABLISHED_CB); program invocations per connection: %.2f\n",
	       lks[0].lookups_conn[ncp - 1], lks[0].ops_conn[ncp - 1]);
	printf("learner memory: sizeof(struct learnd_model) = %zu bytes per prefix with a model (%.1f MiB if all %u "
	       "had one); discovered prefixes get one after 4 records: tools/bench/intake.sh --scale measures the "
	       "learner's memory per prefix\n",
	       sizeof(struct learnd_model), sizeof(struct learnd_model) * (double)written / 1048576.0, written);
	ld_dp_close(&dp, true);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const addrs[] = { "11.0.0.1/32", "11.0.2.1/32", "11.0.1.1/32", "11.0.3.1/32",
					     "fc00::1/128", "fc00:0:2::1/128", "fc00:0:1::1/128", "fc00:0:3::1/128",
					     NULL };
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "n:s:c:S:h")) != -1) {
		switch (opt) {
		case 'n': nprefixes = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's': stats_secs = atof(optarg); break;
		case 'c': nclients = atoi(optarg); break;
		case 'S': nservers = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-n PREFIXES] [-s STATS_SECS] [-c CLIENTS] [-S SERVERS]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (nprefixes < 16 || stats_secs <= 0 || nclients < 1 || nservers < 1) {
		fprintf(stderr, "%s: bad option value\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		printf("skipped: needs root (BPF, cgroups, network namespaces)\n");
		return 77;
	}
	return bench_isolated("scale", addrs, child, NULL);
}
