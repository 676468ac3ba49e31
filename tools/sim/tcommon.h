/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the kernel tests (tests/kernel/ktest.h) and the data-plane benchmarks
 * (tools/bench/benchlib.h) share: dying with a located message, a numeric
 * IPv4 or IPv6 address and a port as a socket address, and removing the cgroup a
 * test made.  Header-only.
 */
#ifndef LEARND_TEST_TCOMMON_H
#define LEARND_TEST_TCOMMON_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

/* "FATAL function:line: message", exit 1. */
#define T_DIE(...)                                                                            \
	do {                                                                                  \
		fprintf(stderr, "FATAL %s:%d: ", __func__, __LINE__);                         \
		fprintf(stderr, __VA_ARGS__);                                                 \
		fputc('\n', stderr);                                                          \
		exit(1);                                                                      \
	} while (0)

/* The address's length, or 0 when addr is neither (the caller dies). */
static inline socklen_t t_sockaddr(const char *addr, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof(*s6);
	}
	return 0;
}

/*
 * rmdir a cgroup the caller made, waiting (2 s at most) while it is busy: it
 * empties a moment after its last process is reaped.  0 when it is gone, else -1
 * with errno set.
 */
static inline int t_rmdir_cgroup(const char *dir)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	for (int i = 0; rmdir(dir) && errno == EBUSY && i < 100; i++)
		nanosleep(&pause, NULL);
	return access(dir, F_OK) == 0 ? -1 : 0;
}

#endif
