/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flowgen's shared declarations: the wire protocol's constants, the helpers of
 * common.c, the size sequence of sizes.c, and the four commands (server.c,
 * client.c, summarize.c, sizes.c).  main.c has the usage text and the dispatch.
 */
#ifndef FLOWGEN_H
#define FLOWGEN_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/tcp.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_TRAILER (UINT64_C(1) << 63)
#define REQ_SIZE_MASK ((UINT64_C(1) << 62) - 1)
#define MAX_FLOW_SIZE (UINT64_C(1) << 40) /* 1 TiB: anything above is a broken request */
#define TRAILER_LEN 16
#define MAX_BINDS 8
#define MAX_SIZES 256
#define IOBUF (256 * 1024)

extern const char *prog;
extern volatile sig_atomic_t g_stop;

enum { OPT_SERVER = 256, OPT_PORT, OPT_SIZES, OPT_ORDER, OPT_DIST, OPT_COUNT, OPT_DURATION, OPT_CONC, OPT_RATE,
       OPT_SEED, OPT_PATH, OPT_OUT, OPT_NOHDR, OPT_CC, OPT_BIND, OPT_RCVBUF, OPT_TIMEOUT, OPT_SRVRTX, OPT_HELP,
       OPT_BY, OPT_RANGE, OPT_CSV };

struct sizegen {
	uint64_t sizes[MAX_SIZES];
	int nsizes;
	bool cycle;
	bool pareto;
	double pmin, pmax, palpha;
	uint64_t seed;
};

void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_runtime(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* common.c */
int64_t mono_us(void);
int64_t wall_us(void);
const char *errname(int e);
void put_be64(uint8_t *p, uint64_t v);
uint64_t get_be64(const uint8_t *p);
void put_be32(uint8_t *p, uint32_t v);
uint32_t get_be32(const uint8_t *p);
uint64_t splitmix64(uint64_t x);
uint64_t rand_at(uint64_t seed, uint64_t stream, uint64_t idx);
double unit_at(uint64_t seed, uint64_t stream, uint64_t idx);
bool parse_u64(const char *s, uint64_t *out);
bool parse_double(const char *s, double *out);
bool parse_size(const char *s, uint64_t *out);
bool parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);
void on_signal(int sig);
void install_signals(void);
const char *opt_name(char **argv, int optind_now);
/* What a command's getopt switch does with --help (usage, exit 0), a missing
 * value and an unknown option (die_usage, naming the command). */
void opt_other(const char *cmd, int o, char **argv) __attribute__((noreturn));
/* main.c */
void usage(FILE *f);
/* sizes.c */
void parse_sizes_list(struct sizegen *g, const char *arg);
void parse_dist(struct sizegen *g, const char *arg);
uint64_t size_at(const struct sizegen *g, uint64_t idx);
const char *parse_order(const char *a, bool *cycle);
int cmd_sizes(int argc, char **argv);
/* the commands */
int cmd_server(int argc, char **argv);
int cmd_client(int argc, char **argv);
int cmd_summarize(int argc, char **argv);

#endif
