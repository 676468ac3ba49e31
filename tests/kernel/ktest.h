/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ktest: what the kernel tests share.
 *
 * kt_main() makes a cgroup and a pin directory of its own, forks a child that
 * runs the test (it calls kt_enter_netns() first: into the cgroup and a fresh
 * network namespace), and removes pins and cgroup after the child exits,
 * whatever happened to it; anything left behind is a failure.  Every socket of
 * the child is in the cgroup, so a loopback connection is seen from both ends.
 *
 * Exit status of kt_main: 0 all passed, 1 a check failed, 77 skipped (not root).
 */
#ifndef LEARND_KTEST_H
#define LEARND_KTEST_H

#include <linux/tcp.h> /* glibc's tcp_info lacks tcpi_snd_wnd */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "learnd_abi.h"
#include "record.h"
#include "tcommon.h"

/* failed CHECKs so far (in the child: its exit status is kt_failures ? 1 : 0) */
extern int kt_failures;

#define CHECK(cond, ...)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			kt_failures++;                                                        \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #cond);       \
			fprintf(stderr, __VA_ARGS__);                                         \
			fputc('\n', stderr);                                                  \
		}                                                                             \
	} while (0)

#define DIE T_DIE /* tcommon.h */

/* ---- the runner ---- */

/* Runs child(cgroup, pin_dir) in a forked process; cgroup and pin directory are
 * named learnd-TAG-PID.  Logs (ld_log) as NAME.  Returns main's exit status. */
int kt_main(const char *name, const char *tag, int (*child)(const char *cgroup, const char *pin_dir));
/* In the child: join cgroup, unshare the network namespace, run the shell
 * command lo_setup (addresses on lo) and turn off tcp metrics caching (a learned
 * cwnd/RTT would carry over from one case to the next). */
void kt_enter_netns(const char *cgroup, const char *lo_setup);
void kt_write_file(const char *path, const char *text);
/* system() of the formatted command; dies if it fails */
void kt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes the policy of prefix cidr (id, epoch, the nslots arms) into the policy
 * map policy_fd; dies if cidr does not parse or the write fails. */
void kt_put_policy(int policy_fd, const char *cidr, uint32_t id, uint32_t epoch, uint32_t nslots,
		   const struct learnd_arm *arms);

/* ---- sockets (IPv4 or IPv6, by the address) ---- */

socklen_t kt_sockaddr(const char *addr, int port, struct sockaddr_storage *ss);
/* a TCP socket bound to addr:port (port 0: any), SO_REUSEADDR */
int kt_tcp_socket(const char *addr, int port);
int kt_tcp_listen(const char *addr, int port);
/* Blocking connect from src to dst:port; connect time in ms into *ms (if not
 * NULL).  Returns the socket, or -errno. */
int kt_tcp_connect(const char *src, const char *dst, int port, double *ms);
/* the next connection on lfd, within 5 s */
int kt_accept(int lfd);
struct tcp_info kt_tcp_info(int fd);
int kt_local_port(int fd);
double kt_now_ms(void);

/* ---- close records from the data plane's ring buffer ---- */

#define KT_MAX_RECS 4096
extern struct learnd_record kt_recs[KT_MAX_RECS];
extern int kt_nrec;

/* start collecting from the ring buffer map fd into kt_recs */
void kt_records_open(int ringbuf_fd);
void kt_records_close(void);
/* Collect records until at least want have arrived or timeout_ms passed. */
void kt_drain(int want, int timeout_ms);

#endif
