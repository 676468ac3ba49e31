// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include "benchlib.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- time ---- */

double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_sleep(double secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- the isolated child ---- */

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig == SIGINT ? SIGTERM : sig);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		BENCH_DIE("write %s: %s", path, strerror(errno));
	close(fd);
}

static void run_cmd(const char *cmd)
{
	if (system(cmd) != 0)
		BENCH_DIE("command failed: %s", cmd);
}

void bench_join_cgroup(const char *cgroup)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	write_file(path, "0");
}

/* rmdir the cgroups directly inside cgroup (the benchmark's own, emptied). */
static void remove_children(const char *cgroup)
{
	DIR *d = opendir(cgroup);
	struct dirent *e;
	char path[4400];

	while (d && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", cgroup, e->d_name);
		(void)t_rmdir_cgroup(path);
	}
	if (d)
		closedir(d);
}

static void netns_setup(const char *cgroup, const char *const *addrs)
{
	char cmd[512];

	bench_join_cgroup(cgroup);
	if (unshare(CLONE_NEWNET))
		BENCH_DIE("unshare(CLONE_NEWNET): %s", strerror(errno));
	run_cmd("ip link set lo mtu 1500 up");
	for (int i = 0; addrs && addrs[i]; i++) {
		snprintf(cmd, sizeof(cmd), "ip addr add %s dev lo%s", addrs[i], strchr(addrs[i], ':') ? " nodad" : "");
		run_cmd(cmd);
	}
	write_file("/proc/sys/net/ipv4/tcp_no_metrics_save", "1");
}

int bench_isolated(const char *name, const char *const *addrs, int (*fn)(const char *cgroup, void *arg), void *arg)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	char cgroup[4096];
	const char *mnt = ld_cgroup2_mount();
	int status = 0, rc;
	pid_t pid;

	if (!mnt)
		BENCH_DIE("no cgroup v2 mount");
	snprintf(cgroup, sizeof(cgroup), "%s/learnd-bench-%s-%d", mnt, name, (int)getpid());
	if (mkdir(cgroup, 0755))
		BENCH_DIE("mkdir %s: %s", cgroup, strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rmdir(cgroup);
		BENCH_DIE("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		netns_setup(cgroup, addrs);
		rc = fn(cgroup, arg);
		fflush(NULL);
		_exit(rc);
	}
	child_pid = pid;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	if (WIFSIGNALED(status))
		fprintf(stderr, "benchmark child killed by signal %d\n", WTERMSIG(status));
	remove_children(cgroup);
	if (t_rmdir_cgroup(cgroup)) {
		fprintf(stderr, "cleanup: cannot remove %s: %s\n", cgroup, strerror(errno));
		rc = 1;
	}
	return rc;
}

/* ---- traffic ---- */

struct bench_traffic {
	struct bench_traffic_opts o;
	struct sockaddr_storage srv, cli;
	socklen_t srv_len, cli_len;
	int lfd;
	atomic_bool stop;
	_Atomic uint64_t done, errors;
	pthread_t *threads;
	int nthreads;
};

static socklen_t sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss)
{
	socklen_t len = t_sockaddr(addr, port, ss);

	if (!len)
		BENCH_DIE("bad address %s", addr);
	return len;
}

static bool read_n(int fd, char *buf, int n)
{
	int got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, (size_t)(n - got));

		if (r <= 0)
			return false;
		got += (int)r;
	}
	return true;
}

static void *server_main(void *arg)
{
	struct bench_traffic *t = arg;
	char buf[4096];

	while (!atomic_load(&t->stop)) {
		int fd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != EINVAL && errno != EBADF)
				atomic_fetch_add(&t->errors, 1);
			if (errno == EINVAL || errno == EBADF) /* listener shut down */
				break;
			continue;
		}
		if (!read_n(fd, buf, t->o.req_bytes) || write(fd, buf, (size_t)t->o.resp_bytes) != t->o.resp_bytes)
			atomic_fetch_add(&t->errors, 1);
		close(fd);
	}
	return NULL;
}

static void *client_main(void *arg)
{
	struct bench_traffic *t = arg;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[4096];
	int one = 1;

	memset(buf, 'q', sizeof(buf));
	while (!atomic_load(&t->stop)) {
		int fd = socket(t->srv.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool ok = false;
		ssize_t r;

		if (fd < 0) {
			atomic_fetch_add(&t->errors, 1);
			continue;
		}
		/* bind the source address now, the port at connect(): no bind-time port search */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&t->cli, t->cli_len) == 0 &&
		    connect(fd, (struct sockaddr *)&t->srv, t->srv_len) == 0 &&
		    write(fd, buf, (size_t)t->o.req_bytes) == t->o.req_bytes && read_n(fd, buf, t->o.resp_bytes)) {
			r = read(fd, buf, 1); /* the server's FIN */
			ok = r == 0;
		}
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		if (ok)
			atomic_fetch_add(&t->done, 1);
		else
			atomic_fetch_add(&t->errors, 1);
	}
	return NULL;
}

struct bench_traffic *bench_traffic_start(const struct bench_traffic_opts *o)
{
	struct bench_traffic *t = calloc(1, sizeof(*t));
	int one = 1;

	if (!t)
		BENCH_DIE("out of memory");
	t->o = *o;
	if (t->o.req_bytes < 1 || t->o.req_bytes > 4096 || t->o.resp_bytes < 1 || t->o.resp_bytes > 4096)
		BENCH_DIE("request and response sizes must be 1..4096");
	t->srv_len = sockaddr_of(o->server, o->port, &t->srv);
	t->cli_len = sockaddr_of(o->client, 0, &t->cli);
	t->lfd = socket(t->srv.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->lfd < 0)
		BENCH_DIE("socket: %s", strerror(errno));
	setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(t->lfd, (struct sockaddr *)&t->srv, t->srv_len) || listen(t->lfd, 4096))
		BENCH_DIE("listen %s:%d: %s", o->server, o->port, strerror(errno));
	if (o->client_cgroup)
		bench_join_cgroup(o->client_cgroup);
	t->nthreads = o->servers + o->clients;
	t->threads = calloc((size_t)t->nthreads, sizeof(*t->threads));
	if (!t->threads)
		BENCH_DIE("out of memory");
	for (int i = 0; i < t->nthreads; i++)
		if (pthread_create(&t->threads[i], NULL, i < o->servers ? server_main : client_main, t))
			BENCH_DIE("pthread_create failed");
	return t;
}

uint64_t bench_traffic_count(struct bench_traffic *t)
{
	return atomic_load(&t->done);
}

uint64_t bench_traffic_errors(struct bench_traffic *t)
{
	return atomic_load(&t->errors);
}

void bench_traffic_stop(struct bench_traffic *t)
{
	if (!t)
		return;
	atomic_store(&t->stop, true);
	/* clients finish their connection; shutdown() wakes servers blocked in accept() */
	for (int i = t->o.servers; i < t->nthreads; i++)
		pthread_join(t->threads[i], NULL);
	shutdown(t->lfd, SHUT_RDWR);
	for (int i = 0; i < t->o.servers; i++)
		pthread_join(t->threads[i], NULL);
	close(t->lfd);
	free(t->threads);
	free(t);
}

double bench_rate(struct bench_traffic *t, double secs)
{
	uint64_t c0 = bench_traffic_count(t), c1;
	double t0 = bench_now_s(), t1;

	bench_sleep(secs);
	c1 = bench_traffic_count(t);
	t1 = bench_now_s();
	return (double)(c1 - c0) / (t1 - t0);
}

/* ---- BPF program statistics ---- */

int bench_prog_stats(int prog_fd, uint64_t *run_time_ns, uint64_t *run_cnt)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	*run_time_ns = info.run_time_ns;
	*run_cnt = info.run_cnt;
	return 0;
}

/* ---- memory ---- */

void bench_meminfo(struct bench_meminfo *m)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	long v;

	memset(m, 0, sizeof(*m));
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %ld", &v) == 1)
			m->slab_kb = v;
		else if (sscanf(line, "SUnreclaim: %ld", &v) == 1)
			m->sunreclaim_kb = v;
		else if (sscanf(line, "Percpu: %ld", &v) == 1)
			m->percpu_kb = v;
		else if (sscanf(line, "VmallocUsed: %ld", &v) == 1)
			m->vmalloc_kb = v;
	}
	if (f)
		fclose(f);
}

long long bench_fd_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}
