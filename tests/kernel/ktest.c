// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ktest: the kernel tests' runner, socket helpers and record collection (ktest.h). */
#define _GNU_SOURCE
#include "ktest.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "loader.h"
#include "log.h"

int kt_failures;
struct learnd_record kt_recs[KT_MAX_RECS];
int kt_nrec;
static struct ring_buffer *rb;

/* ---- the runner ---- */

void kt_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		DIE("write %s: %s", path, strerror(errno));
	close(fd);
}

void kt_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		DIE("command longer than %zu bytes: %.60s...", sizeof(cmd) - 1, cmd);
	if (system(cmd) != 0)
		DIE("command failed: %s", cmd);
}

void kt_enter_netns(const char *cgroup, const char *lo_setup)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	kt_write_file(path, "0");
	if (unshare(CLONE_NEWNET))
		DIE("unshare(CLONE_NEWNET): %s", strerror(errno));
	kt_sh("%s", lo_setup);
	kt_write_file("/proc/sys/net/ipv4/tcp_no_metrics_save", "1");
}

/* Remove what the child may have left: pins (the pinned link holds the program
 * on the cgroup), then the cgroup itself. */
static int cleanup(const char *cgroup, const char *pin_dir)
{
	static const char *const pins[] = { LEARND_PINS };
	char path[4200];
	int bad = 0;

	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, pins[i]);
		if (unlink(path) == 0) {
			fprintf(stderr, "cleanup: %s was left behind\n", path);
			bad = 1;
		}
	}
	if (rmdir(pin_dir) == 0) {
		fprintf(stderr, "cleanup: %s was left behind\n", pin_dir);
		bad = 1;
	}
	if (t_rmdir_cgroup(cgroup)) {
		fprintf(stderr, "cleanup: rmdir %s: %s\n", cgroup, strerror(errno));
		bad = 1;
	}
	return bad;
}

int kt_main(const char *name, const char *tag, int (*child)(const char *cgroup, const char *pin_dir))
{
	char cgroup[4096], pin_dir[256];
	const char *mnt;
	pid_t pid;
	int status, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("skipped: needs root (BPF, cgroups, network namespaces)\n");
		return 77;
	}
	ld_log_init(name, 0);
	mnt = ld_cgroup2_mount();
	if (!mnt)
		DIE("no cgroup v2 mount");
	snprintf(cgroup, sizeof(cgroup), "%s/learnd-%s-%d", mnt, tag, (int)getpid());
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/learnd-%s-%d", tag, (int)getpid());
	if (mkdir(cgroup, 0755))
		DIE("mkdir %s: %s", cgroup, strerror(errno));

	pid = fork();
	if (pid < 0)
		DIE("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child(cgroup, pin_dir));
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	if (WIFSIGNALED(status))
		fprintf(stderr, "test child killed by signal %d\n", WTERMSIG(status));
	/* a clean close unpins everything itself; anything left is a failure too */
	if (cleanup(cgroup, pin_dir))
		rc = 1;
	printf("%s\n", rc ? "FAILED" : "all passed");
	return rc;
}

/* ---- sockets ---- */

void kt_put_policy(int policy_fd, const char *cidr, uint32_t id, uint32_t epoch, uint32_t nslots,
		   const struct learnd_arm *arms)
{
	struct learnd_policy p = { .prefix_id = id, .epoch = epoch, .nslots = nslots };
	struct learnd_key key;
	char err[128];

	if (ld_cidr_parse(cidr, &key, err, sizeof(err)))
		DIE("%s: %s", cidr, err);
	for (uint32_t i = 0; i < nslots; i++)
		p.slots[i] = arms[i];
	if (bpf_map_update_elem(policy_fd, &key, &p, BPF_ANY))
		DIE("policy %s: %s", cidr, strerror(errno));
}

socklen_t kt_sockaddr(const char *addr, int port, struct sockaddr_storage *ss)
{
	socklen_t len = t_sockaddr(addr, port, ss);

	if (!len)
		DIE("bad address %s", addr);
	return len;
}

int kt_tcp_socket(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = kt_sockaddr(addr, port, &ss);
	int one = 1, fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		DIE("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len))
		DIE("bind %s:%d: %s", addr, port, strerror(errno));
	return fd;
}

int kt_tcp_listen(const char *addr, int port)
{
	int fd = kt_tcp_socket(addr, port);

	if (listen(fd, 512))
		DIE("listen: %s", strerror(errno));
	return fd;
}

double kt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int kt_tcp_connect(const char *src, const char *dst, int port, double *ms)
{
	struct sockaddr_storage ss;
	socklen_t len = kt_sockaddr(dst, port, &ss);
	int fd = kt_tcp_socket(src, 0);
	double t0 = kt_now_ms();

	if (connect(fd, (struct sockaddr *)&ss, len)) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (ms)
		*ms = kt_now_ms() - t0;
	return fd;
}

int kt_accept(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	if (poll(&p, 1, 5000) != 1)
		DIE("no connection to accept");
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		DIE("accept: %s", strerror(errno));
	return fd;
}

struct tcp_info kt_tcp_info(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		DIE("TCP_INFO: %s", strerror(errno));
	return ti;
}

int kt_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &len);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* ---- records ---- */

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (kt_nrec < KT_MAX_RECS && ld_record_decode(data, size, &kt_recs[kt_nrec]) == 0)
		kt_nrec++;
	return 0;
}

void kt_records_open(int ringbuf_fd)
{
	rb = ring_buffer__new(ringbuf_fd, on_record, NULL, NULL);
	if (!rb)
		DIE("ring_buffer__new: %s", strerror(errno));
}

void kt_records_close(void)
{
	ring_buffer__free(rb);
	rb = NULL;
}

void kt_drain(int want, int timeout_ms)
{
	/* the program wakes readers only when the ring is a quarter full: consume */
	for (int waited = 0; kt_nrec < want && waited < timeout_ms; waited += 20) {
		ring_buffer__poll(rb, 20);
		ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);
}
