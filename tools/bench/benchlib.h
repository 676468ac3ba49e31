/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared pieces of the data-plane benchmarks (bench_dataplane, bench_scale):
 * an isolated child (own cgroup under the v2 mount, own network namespace, the
 * parent cleans up whatever happens), a loopback connection generator, and the
 * program's run-time statistics.
 */
#ifndef LEARND_BENCHLIB_H
#define LEARND_BENCHLIB_H

#include <stdbool.h>
#include <stdint.h>

#include "learnd_abi.h"
#include "loader.h"
#include "tcommon.h"

#define BENCH_DIE T_DIE /* tcommon.h */

/*
 * Create a cgroup <v2 mount>/learnd-bench-<name>-<pid>, fork a child that joins
 * it and a fresh network namespace (lo up, MTU 1500, the given addresses on lo,
 * tcp_no_metrics_save=1), run fn(cgroup, arg) there, and after the child exits
 * (SIGINT/SIGTERM are forwarded to it) remove the cgroup and any cgroups fn
 * made inside it.  Nothing is pinned by
 * the benchmarks, so the child's exit detaches the program whatever happened.
 * Returns the child's exit status (1 when it was killed).
 */
int bench_isolated(const char *name, const char *const *addrs, int (*fn)(const char *cgroup, void *arg),
		   void *arg);

/* Flow generator: client threads connect(), send a request, read the answer to
 * EOF and close with SO_LINGER {1, 0} (an RST: no TIME_WAIT anywhere); server
 * threads accept, read the request, answer and close. */
struct bench_traffic;

struct bench_traffic_opts {
	const char *server;  /* address to listen on (must be on lo) */
	const char *client;  /* source address of the clients */
	int port;
	int clients;         /* client threads */
	int servers;         /* server threads */
	int req_bytes;
	int resp_bytes;
	/* if set: once the listener exists, move this process into that cgroup (a
	 * directory), so the clients' sockets belong to it and the accepted ones to
	 * the listener's (a socket keeps the cgroup of the task that made it) */
	const char *client_cgroup;
};

struct bench_traffic *bench_traffic_start(const struct bench_traffic_opts *o);
/* Completed connections so far (monotonic). */
uint64_t bench_traffic_count(struct bench_traffic *t);
/* Errors seen so far (connect/read/write failures). */
uint64_t bench_traffic_errors(struct bench_traffic *t);
void bench_traffic_stop(struct bench_traffic *t);

/* Move this process into a cgroup (a directory under the v2 mount). */
void bench_join_cgroup(const char *cgroup);

/* Completed connections per second over secs (sleeps). */
double bench_rate(struct bench_traffic *t, double secs);

/* run_time_ns and run_cnt of a program (needs BPF stats enabled). */
int bench_prog_stats(int prog_fd, uint64_t *run_time_ns, uint64_t *run_cnt);

double bench_now_s(void);
void bench_sleep(double secs);
/* Kernel memory counters, kB, from /proc/meminfo (Slab, SUnreclaim, Percpu, VmallocUsed). */
struct bench_meminfo {
	long slab_kb, sunreclaim_kb, percpu_kb, vmalloc_kb;
};
void bench_meminfo(struct bench_meminfo *m);
/* "memlock" of a BPF map's fd from /proc/self/fdinfo, bytes; -1 if unknown. */
long long bench_fd_memlock(int fd);

#endif
