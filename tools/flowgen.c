// SPDX-License-Identifier: GPL-2.0
/*
 * flowgen — flow generator for the learnd testbed.
 *
 *   flowgen server    --port P [--bind ADDR]...      serve requests (epoll, one thread)
 *   flowgen client    --server ADDR --port P ...     one new connection per request, CSV rows
 *   flowgen summarize FILE.csv [--by path,size]      count / mean / p50 / p95 / p99 per group
 *   flowgen sizes     --sizes LIST|--dist ... --count N --seed S   print the size sequence
 *
 * Wire protocol (one request per connection):
 *   client -> server: 8 bytes, big endian: bit 63 = "trailer wanted", bits 0..61 = size
 *   server -> client: `size` bytes of payload.
 *   Without the trailer flag the server then closes.  With it, the server waits for one byte
 *   from the client (sent after the client has received every payload byte, i.e. after the
 *   FCT has been measured), then answers with a 16-byte trailer read from TCP_INFO of its
 *   own (sending) socket: u32 total_retrans, u32 data_segs_out, u32 snd_cwnd, u32 min_rtt_us
 *   (all big endian), and closes.
 *
 * See docs/testbed.md, section "Flow generator".
 */
#define _GNU_SOURCE
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

static const char *prog = "flowgen";
static volatile sig_atomic_t g_stop;

/* ------------------------------------------------------------------------------------ */
/* small helpers                                                                        */

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s --help')\n", prog);
	exit(2);
}

static void die_runtime(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_runtime(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "EUNKNOWN";
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t splitmix64(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* Deterministic per (seed, stream, index): the sequence does not depend on concurrency. */
static uint64_t rand_at(uint64_t seed, uint64_t stream, uint64_t idx)
{
	return splitmix64(splitmix64(seed ^ (stream * UINT64_C(0xD1B54A32D192ED03))) + idx);
}

/* uniform in (0, 1) */
static double unit_at(uint64_t seed, uint64_t stream, uint64_t idx)
{
	return ((double)(rand_at(seed, stream, idx) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool parse_double(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* "300k", "1.5m", "64Ki", "1000": k/m/g = 10^3/10^6/10^9, Ki/Mi/Gi = 2^10/2^20/2^30 */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return false;
	double mult = 1;
	if (*end) {
		char u = *end++;
		bool bin = false;
		if (*end == 'i') {
			bin = true;
			end++;
		}
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return false;
		switch (u) {
		case 'k': case 'K': mult = bin ? 1024.0 : 1e3; break;
		case 'm': case 'M': mult = bin ? 1048576.0 : 1e6; break;
		case 'g': case 'G': mult = bin ? 1073741824.0 : 1e9; break;
		case 'b': case 'B': if (bin) return false; mult = 1; break;
		default: return false;
		}
	}
	v *= mult;
	if (v < 1 || v > (double)MAX_FLOW_SIZE)
		return false;
	*out = (uint64_t)llround(v);
	return true;
}

/* strict numeric address: dotted-quad IPv4 (inet_pton, no "1.2.3" shorthands) or IPv6,
 * optionally bracketed and with a %scope */
static bool parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof(host)) {
		memcpy(host, s + 1, n - 2);
		host[n - 2] = 0;
	} else if (n < sizeof(host)) {
		memcpy(host, s, n + 1);
	} else {
		return false;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return true;
	}
	if (!strchr(host, ':'))
		return false;
	struct addrinfo hints = {.ai_family = AF_INET6, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char portbuf[8];
	snprintf(portbuf, sizeof(portbuf), "%u", port);
	if (getaddrinfo(host, portbuf, &hints, &res) != 0 || !res)
		return false;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: epoll_wait / poll return EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static const char *opt_name(char **argv, int optind_now)
{
	/* the option getopt just rejected */
	const char *o = argv[optind_now - 1];
	return o ? o : "?";
}

/* ------------------------------------------------------------------------------------ */
/* usage                                                                                */

static void usage(FILE *f)
{
	fprintf(f,
"Usage:\n"
"  flowgen server --port P [--bind ADDR]... [--congestion ALGO] [--idle-timeout S]\n"
"  flowgen client --server ADDR --port P [options]\n"
"  flowgen summarize FILE.csv|- [--by KEYS] [--size-range MIN:MAX] [--csv]\n"
"  flowgen sizes (--sizes LIST | --dist SPEC) --count N [--seed N] [--order cycle|random]\n"
"  flowgen --help\n"
"\n"
"server: accepts TCP connections; each carries one request (8-byte big-endian size);\n"
"  the server writes that many bytes and closes. One epoll thread, non-blocking sockets,\n"
"  so a slow client never blocks the others. Exits 0 on SIGTERM/SIGINT.\n"
"  --port P            TCP port (required)\n"
"  --bind ADDR         address to listen on; may be given up to %d times (e.g. one IPv4\n"
"                      and one IPv6). Default: dual-stack [::] (0.0.0.0 if IPv6 is off)\n"
"  --congestion ALGO   TCP_CONGESTION on the listening socket, inherited by accepted\n"
"                      sockets unless the route sets congctl. Default: leave as is\n"
"  --idle-timeout S    close a connection without progress for S seconds (default 60)\n"
"\n"
"client: opens a new connection per request and writes one CSV row per flow.\n"
"  --server ADDR       server address, IPv4 or IPv6 (required)\n"
"  --port P            server port (required)\n"
"  --sizes LIST        comma-separated sizes, e.g. 10k,100k,300k (k,m,g = 10^3,10^6,10^9;\n"
"                      Ki,Mi,Gi = 2^10,2^20,2^30). Default 100k\n"
"  --order cycle|random  with --sizes: cycle through the list, or draw uniformly\n"
"                      (default random; both deterministic for a seed)\n"
"  --dist pareto:MIN:MAX:ALPHA  bounded Pareto sizes (heavy-tailed), e.g. pareto:1k:10m:1.2\n"
"  --count N           number of flows (default 100 unless --duration is given)\n"
"  --duration S        run for S seconds (stop starting flows after S; with --count,\n"
"                      whichever ends first)\n"
"  --concurrency C     flows in flight at once (default 1)\n"
"  --rate R            open loop: start flows at Poisson arrivals of R per second\n"
"                      (still at most C in flight; late starts are started at once)\n"
"  --seed N            seed of the size sequence and arrivals (default 1); flow i always\n"
"                      gets the same size for the same seed, whatever the concurrency\n"
"  --path NAME         label written into the path column (default '-')\n"
"  --out FILE          CSV output (default stdout)\n"
"  --no-header         do not write the header row (for appending)\n"
"  --congestion ALGO   set TCP_CONGESTION on the client socket (default leave as is)\n"
"  --bind ADDR         source address\n"
"  --rcvbuf BYTES      SO_RCVBUF on the client socket before connect (disables autotuning;\n"
"                      default leave as is)\n"
"  --timeout S         per-flow time limit, connect included (default 30); a flow that\n"
"                      hits it ends as an error row\n"
"  --srv-retrans       ask the server for its TCP_INFO after the last byte (one extra\n"
"                      round trip after the FCT is taken; fills srv_retrans, srv_segs)\n"
"  Columns: path,size,connect_us,fct_us,retrans,ok,err,id,start_us,rtt_us,min_rtt_us,\n"
"           srv_retrans,srv_segs\n"
"    connect_us  connect() duration (-1 if it never completed)\n"
"    fct_us      from just before connect() to the last byte received; for ok=0 rows,\n"
"                the time until the flow failed\n"
"    retrans     tcpi_total_retrans of the client socket (SYN retransmits show here)\n"
"    ok,err      ok=1 if every byte arrived; else 0 and err names the step and error\n"
"    id          flow index (sizes are a function of seed and id); start_us: wall clock\n"
"    rtt_us,min_rtt_us  client TCP_INFO srtt and min RTT\n"
"    srv_retrans,srv_segs  server socket tcpi_total_retrans and tcpi_data_segs_out\n"
"                (empty without --srv-retrans)\n"
"  Exit status: 0 when the run completes (failed flows are rows with ok=0), 1 runtime\n"
"  failure, 2 bad usage.\n"
"\n"
"summarize: per group: flows, ok, errors, mean/p50/p95/p99 of fct and connect (ok flows;\n"
"  ms in the table, us with --csv), client retransmits per flow, and, when present,\n"
"  server retransmits per flow, the share of flows with a server retransmit and the\n"
"  server segment retransmit rate (srv_retrans / srv_segs).\n"
"  --by KEYS           comma list of: path, size, class (log2 size class), none.\n"
"                      Default path,size\n"
"  --size-range MIN:MAX  only flows with MIN <= size <= MAX\n"
"  --csv               machine-readable output\n"
"\n"
"sizes: prints the size of flow 0..N-1 for the seed, one per line (what 'client' uses).\n",
		MAX_BINDS);
}

/* ------------------------------------------------------------------------------------ */
/* size sequence                                                                        */

struct sizegen {
	uint64_t sizes[MAX_SIZES];
	int nsizes;
	bool cycle;
	bool pareto;
	double pmin, pmax, palpha;
	uint64_t seed;
};

static void parse_sizes_list(struct sizegen *g, const char *arg)
{
	char *dup = strdup(arg);
	char *save = NULL;
	g->nsizes = 0;
	for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (g->nsizes >= MAX_SIZES)
			die_usage("--sizes: more than %d sizes", MAX_SIZES);
		if (!parse_size(tok, &g->sizes[g->nsizes]))
			die_usage("--sizes: bad size '%s' (expected e.g. 10k, 1.5m, 64Ki, 1000)", tok);
		g->nsizes++;
	}
	free(dup);
	if (g->nsizes == 0)
		die_usage("--sizes: empty list '%s'", arg);
}

static void parse_dist(struct sizegen *g, const char *arg)
{
	char *dup = strdup(arg);
	char *f[5] = {0};
	int n = 0;
	char *p = dup;
	while (n < 5) {
		f[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = 0;
	}
	if (n != 4 || strcmp(f[0], "pareto") != 0)
		die_usage("--dist: expected pareto:MIN:MAX:ALPHA, got '%s'", arg);
	uint64_t lo, hi;
	double a;
	if (!parse_size(f[1], &lo))
		die_usage("--dist: bad MIN '%s'", f[1]);
	if (!parse_size(f[2], &hi))
		die_usage("--dist: bad MAX '%s'", f[2]);
	if (hi <= lo)
		die_usage("--dist: MAX (%s) must be greater than MIN (%s)", f[2], f[1]);
	if (!parse_double(f[3], &a) || a <= 0 || a > 100)
		die_usage("--dist: bad ALPHA '%s' (expected a number in (0, 100])", f[3]);
	g->pareto = true;
	g->pmin = (double)lo;
	g->pmax = (double)hi;
	g->palpha = a;
	free(dup);
}

static uint64_t size_at(const struct sizegen *g, uint64_t idx)
{
	if (g->pareto) {
		/* bounded Pareto, inverse CDF */
		double u = unit_at(g->seed, 1, idx);
		double ratio = pow(g->pmin / g->pmax, g->palpha);
		double x = g->pmin / pow(1.0 - u * (1.0 - ratio), 1.0 / g->palpha);
		if (x < g->pmin)
			x = g->pmin;
		if (x > g->pmax)
			x = g->pmax;
		return (uint64_t)llround(x);
	}
	if (g->cycle)
		return g->sizes[idx % (uint64_t)g->nsizes];
	return g->sizes[rand_at(g->seed, 1, idx) % (uint64_t)g->nsizes];
}

/* ------------------------------------------------------------------------------------ */
/* server                                                                               */

enum cstate { C_REQ, C_DATA, C_ACK, C_TRAILER };

struct conn {
	int fd;
	enum cstate st;
	bool trailer;
	uint8_t hdr[8];
	unsigned hdr_got;
	uint64_t left;
	uint8_t tr[TRAILER_LEN];
	unsigned tr_off;
	int64_t last_us;
	struct conn *prev, *next;
};

static struct conn *g_conns;
static unsigned g_nconns;
static uint8_t g_payload[IOBUF];

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		g_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g_nconns--;
	free(c);
}

static void conn_want(int ep, struct conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* returns false when the connection was closed */
static bool conn_step(int ep, struct conn *c)
{
	for (;;) {
		switch (c->st) {
		case C_REQ: {
			ssize_t n = recv(c->fd, c->hdr + c->hdr_got, sizeof(c->hdr) - c->hdr_got, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return true;
			if (n <= 0) {
				conn_close(ep, c);
				return false;
			}
			c->hdr_got += (unsigned)n;
			c->last_us = mono_us();
			if (c->hdr_got < sizeof(c->hdr))
				continue;
			uint64_t req = get_be64(c->hdr);
			c->trailer = (req & REQ_TRAILER) != 0;
			c->left = req & REQ_SIZE_MASK;
			if (c->left > MAX_FLOW_SIZE) {
				conn_close(ep, c);
				return false;
			}
			c->st = C_DATA;
			conn_want(ep, c, EPOLLOUT);
			continue;
		}
		case C_DATA: {
			while (c->left > 0) {
				size_t want = c->left < sizeof(g_payload) ? (size_t)c->left : sizeof(g_payload);
				ssize_t n = send(c->fd, g_payload, want, MSG_NOSIGNAL);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0 && errno == EAGAIN)
					return true;
				if (n <= 0) {
					conn_close(ep, c);
					return false;
				}
				c->left -= (uint64_t)n;
				c->last_us = mono_us();
			}
			if (!c->trailer) {
				/* all bytes queued: close sends FIN after them */
				conn_close(ep, c);
				return false;
			}
			c->st = C_ACK;
			conn_want(ep, c, EPOLLIN);
			continue;
		}
		case C_ACK: {
			uint8_t b;
			ssize_t n = recv(c->fd, &b, 1, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return true;
			if (n <= 0) {
				conn_close(ep, c);
				return false;
			}
			struct tcp_info ti;
			socklen_t tl = sizeof(ti);
			memset(&ti, 0, sizeof(ti));
			getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl);
			put_be32(c->tr + 0, ti.tcpi_total_retrans);
			put_be32(c->tr + 4, ti.tcpi_data_segs_out);
			put_be32(c->tr + 8, ti.tcpi_snd_cwnd);
			put_be32(c->tr + 12, ti.tcpi_min_rtt);
			c->st = C_TRAILER;
			c->last_us = mono_us();
			conn_want(ep, c, EPOLLOUT);
			continue;
		}
		case C_TRAILER: {
			ssize_t n = send(c->fd, c->tr + c->tr_off, TRAILER_LEN - c->tr_off, MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return true;
			if (n <= 0) {
				conn_close(ep, c);
				return false;
			}
			c->tr_off += (unsigned)n;
			if (c->tr_off < TRAILER_LEN)
				continue;
			conn_close(ep, c);
			return false;
		}
		}
	}
}

static int open_listener(const char *addr, uint16_t port, const char *cc, char *desc, size_t desclen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (addr) {
		if (!parse_addr(addr, port, &ss, &sl))
			die_usage("--bind: bad address '%s'", addr);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons(port);
		sl = sizeof(*s6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && !addr && errno == EAFNOSUPPORT) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		s4->sin_port = htons(port);
		sl = sizeof(*s4);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		die_runtime("server: socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6) {
		/* explicit v6 address: v6 only, so a second --bind for v4 can use the same port;
		 * default [::]: dual-stack */
		int v6only = addr ? 1 : 0;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	if (cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0)
		die_runtime("server: TCP_CONGESTION '%s': %s", cc, strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		die_runtime("server: bind %s port %u: %s", addr ? addr : "[::]", port, strerror(errno));
	if (listen(fd, 4096) < 0)
		die_runtime("server: listen: %s", strerror(errno));
	snprintf(desc, desclen, "%s%s%s:%u", ss.ss_family == AF_INET6 ? "[" : "",
		 addr ? addr : (ss.ss_family == AF_INET6 ? "::" : "0.0.0.0"),
		 ss.ss_family == AF_INET6 ? "]" : "", port);
	return fd;
}

static int cmd_server(int argc, char **argv)
{
	static const struct option lo[] = {
		{"port", required_argument, 0, 'p'},
		{"bind", required_argument, 0, 'b'},
		{"congestion", required_argument, 0, 'c'},
		{"idle-timeout", required_argument, 0, 'i'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *binds[MAX_BINDS];
	int nbinds = 0;
	uint64_t port = 0, idle = 60;
	bool have_port = false;
	const char *cc = NULL;
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (!parse_u64(optarg, &port) || port < 1 || port > 65535)
				die_usage("server: --port: expected 1..65535, got '%s'", optarg);
			have_port = true;
			break;
		case 'b':
			if (nbinds >= MAX_BINDS)
				die_usage("server: --bind: at most %d addresses", MAX_BINDS);
			binds[nbinds++] = optarg;
			break;
		case 'c':
			if (!*optarg || strlen(optarg) >= 16)
				die_usage("server: --congestion: bad algorithm name '%s'", optarg);
			cc = optarg;
			break;
		case 'i':
			if (!parse_u64(optarg, &idle) || idle < 1 || idle > 86400)
				die_usage("server: --idle-timeout: expected 1..86400 seconds, got '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			die_usage("server: option '%s' needs a value", opt_name(argv, optind));
		default:
			die_usage("server: unknown option '%s'", opt_name(argv, optind));
		}
	}
	if (optind < argc)
		die_usage("server: unexpected argument '%s'", argv[optind]);
	if (!have_port)
		die_usage("server: --port is required");

	install_signals();
	memset(g_payload, 'x', sizeof(g_payload));

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die_runtime("server: epoll_create1: %s", strerror(errno));
	int lfds[MAX_BINDS];
	int nl = nbinds ? nbinds : 1;
	for (int i = 0; i < nl; i++) {
		char desc[128];
		lfds[i] = open_listener(nbinds ? binds[i] : NULL, (uint16_t)port, cc, desc, sizeof(desc));
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
		e.data.u64 = (uint64_t)i; /* listeners: small integers; conns: pointers */
		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfds[i], &e) < 0)
			die_runtime("server: epoll_ctl: %s", strerror(errno));
		fprintf(stderr, "%s server: listening on %s\n", prog, desc);
	}

	struct epoll_event evs[256];
	int64_t last_sweep = mono_us();
	while (!g_stop) {
		int n = epoll_wait(ep, evs, 256, 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_runtime("server: epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++) {
			uint64_t u = evs[i].data.u64;
			if (u < (uint64_t)nl) {
				int lfd = lfds[u];
				for (;;) {
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd < 0) {
						if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
							fprintf(stderr, "%s server: accept: %s\n", prog, strerror(errno));
						break;
					}
					struct conn *c = calloc(1, sizeof(*c));
					if (!c) {
						close(fd);
						continue;
					}
					c->fd = fd;
					c->st = C_REQ;
					c->last_us = mono_us();
					int one = 1;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) {
						close(fd);
						free(c);
						continue;
					}
					c->next = g_conns;
					if (g_conns)
						g_conns->prev = c;
					g_conns = c;
					g_nconns++;
				}
				continue;
			}
			struct conn *c = evs[i].data.ptr;
			if (evs[i].events & (EPOLLERR)) {
				conn_close(ep, c);
				continue;
			}
			conn_step(ep, c);
		}
		int64_t now = mono_us();
		if (now - last_sweep >= 1000000) {
			last_sweep = now;
			for (struct conn *c = g_conns, *nx; c; c = nx) {
				nx = c->next;
				if (now - c->last_us > (int64_t)idle * 1000000)
					conn_close(ep, c);
			}
		}
	}
	while (g_conns)
		conn_close(ep, g_conns);
	for (int i = 0; i < nl; i++)
		close(lfds[i]);
	close(ep);
	fprintf(stderr, "%s server: stopped\n", prog);
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* client                                                                               */

struct client_cfg {
	struct sockaddr_storage srv;
	socklen_t srvlen;
	struct sockaddr_storage src;
	socklen_t srclen;
	bool have_src;
	struct sizegen sg;
	uint64_t count;     /* 0 = unlimited (duration) */
	double duration;    /* 0 = none */
	unsigned conc;
	double rate;        /* 0 = closed loop */
	const char *path;
	const char *cc;
	uint64_t rcvbuf;
	double timeout;
	bool srv_retrans;

	FILE *out;
	pthread_mutex_t out_mu;
	atomic_uint_fast64_t next_id;
	int64_t t_start;    /* mono */
	int64_t t_end;      /* mono, 0 = none */
	double *arrivals;   /* open loop: offset of flow i in seconds (lazily extended) */
	uint64_t narr, carr;
	pthread_mutex_t arr_mu;
	atomic_uint_fast64_t nflows, nok;
};

struct flow_res {
	uint64_t id, size, got;
	int64_t start_wall;
	int64_t connect_us, fct_us;
	uint32_t retrans, rtt_us, min_rtt_us;
	bool ok;
	bool have_srv;
	uint32_t srv_retrans, srv_segs;
	char err[96];
};

/* wait for ev on fd until deadline (mono us); returns 1 ready, 0 timeout, -1 stopped */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - mono_us();
		if (left <= 0)
			return 0;
		if (g_stop)
			return -1;
		int ms = (int)((left + 999) / 1000);
		if (ms > 200)
			ms = 200;
		struct pollfd p = {.fd = fd, .events = ev};
		int r = poll(&p, 1, ms);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1; /* let the syscall report the error */
	}
}

static void flow_fail(struct flow_res *r, const char *step, const char *what)
{
	r->ok = false;
	snprintf(r->err, sizeof(r->err), "%s:%s", step, what);
}

static void run_flow(struct client_cfg *c, struct flow_res *r, uint8_t *buf, size_t bufsz)
{
	int64_t deadline;
	int fd, one = 1, e;
	socklen_t el;

	r->ok = false;
	r->connect_us = -1;
	r->err[0] = 0;
	r->start_wall = wall_us();

	fd = socket(c->srv.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		flow_fail(r, "socket", errname(errno));
		r->fct_us = 0;
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, c->cc, (socklen_t)strlen(c->cc)) < 0) {
		flow_fail(r, "congestion", errname(errno));
		r->fct_us = 0;
		goto out;
	}
	if (c->rcvbuf) {
		int v = (int)c->rcvbuf;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	}
	if (c->have_src) {
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&c->src, c->srclen) < 0) {
			flow_fail(r, "bind", errname(errno));
			r->fct_us = 0;
			goto out;
		}
	}

	int64_t t0 = mono_us();
	deadline = t0 + (int64_t)(c->timeout * 1e6);
	r->start_wall = wall_us();
	if (connect(fd, (struct sockaddr *)&c->srv, c->srvlen) < 0) {
		if (errno != EINPROGRESS) {
			flow_fail(r, "connect", errname(errno));
			goto fail;
		}
		int w = wait_fd(fd, POLLOUT, deadline);
		if (w <= 0) {
			flow_fail(r, w == 0 ? "timeout" : "interrupted", "connect");
			goto fail;
		}
		el = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e) {
			flow_fail(r, "connect", errname(e));
			goto fail;
		}
	}
	r->connect_us = mono_us() - t0;

	uint8_t req[8];
	put_be64(req, (r->size & REQ_SIZE_MASK) | (c->srv_retrans ? REQ_TRAILER : 0));
	size_t sent = 0;
	while (sent < sizeof(req)) {
		ssize_t n = send(fd, req + sent, sizeof(req) - sent, MSG_NOSIGNAL);
		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int w = wait_fd(fd, POLLOUT, deadline);
			if (w <= 0) {
				flow_fail(r, w == 0 ? "timeout" : "interrupted", "send");
				goto fail;
			}
			continue;
		}
		flow_fail(r, "send", errname(errno));
		goto fail;
	}

	r->got = 0;
	while (r->got < r->size) {
		uint64_t want = r->size - r->got;
		ssize_t n = recv(fd, buf, want < bufsz ? (size_t)want : bufsz, 0);
		if (n > 0) {
			r->got += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			char m[64];
			snprintf(m, sizeof(m), "eof %" PRIu64 "/%" PRIu64, r->got, r->size);
			flow_fail(r, "recv", m);
			goto fail;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			int w = wait_fd(fd, POLLIN, deadline);
			if (w <= 0) {
				char m[64];
				snprintf(m, sizeof(m), "recv %" PRIu64 "/%" PRIu64, r->got, r->size);
				flow_fail(r, w == 0 ? "timeout" : "interrupted", m);
				goto fail;
			}
			continue;
		}
		flow_fail(r, "recv", errname(errno));
		goto fail;
	}
	r->fct_us = mono_us() - t0;
	r->ok = true;

	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0) {
		r->retrans = ti.tcpi_total_retrans;
		r->rtt_us = ti.tcpi_rtt;
		r->min_rtt_us = ti.tcpi_min_rtt == UINT32_MAX ? 0 : ti.tcpi_min_rtt;
	}

	if (c->srv_retrans) {
		/* one byte asks for the trailer; failures here do not make the flow not-ok */
		uint8_t ack = 1, tr[TRAILER_LEN];
		size_t trg = 0;
		if (send(fd, &ack, 1, MSG_NOSIGNAL) != 1) {
			snprintf(r->err, sizeof(r->err), "trailer:%s", errname(errno));
			goto out;
		}
		while (trg < TRAILER_LEN) {
			ssize_t n = recv(fd, tr + trg, TRAILER_LEN - trg, 0);
			if (n > 0) {
				trg += (size_t)n;
				continue;
			}
			if (n == 0) {
				snprintf(r->err, sizeof(r->err), "trailer:eof");
				goto out;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				int w = wait_fd(fd, POLLIN, deadline);
				if (w <= 0) {
					snprintf(r->err, sizeof(r->err), "trailer:timeout");
					goto out;
				}
				continue;
			}
			snprintf(r->err, sizeof(r->err), "trailer:%s", errname(errno));
			goto out;
		}
		r->have_srv = true;
		r->srv_retrans = get_be32(tr);
		r->srv_segs = get_be32(tr + 4);
	}
	goto out;

fail:
	r->fct_us = mono_us() - t0;
	tl = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0) {
		r->retrans = ti.tcpi_total_retrans;
		r->rtt_us = ti.tcpi_rtt;
		r->min_rtt_us = ti.tcpi_min_rtt == UINT32_MAX ? 0 : ti.tcpi_min_rtt;
	}
out:
	close(fd);
}

static void write_header(FILE *f)
{
	fprintf(f, "path,size,connect_us,fct_us,retrans,ok,err,id,start_us,rtt_us,min_rtt_us,"
		   "srv_retrans,srv_segs\n");
}

static void write_row(struct client_cfg *c, const struct flow_res *r)
{
	char srv[48] = ",";
	if (r->have_srv)
		snprintf(srv, sizeof(srv), "%u,%u", r->srv_retrans, r->srv_segs);
	pthread_mutex_lock(&c->out_mu);
	fprintf(c->out, "%s,%" PRIu64 ",%" PRId64 ",%" PRId64 ",%u,%d,%s,%" PRIu64 ",%" PRId64 ",%u,%u,%s\n",
		c->path, r->size, r->connect_us, r->fct_us, r->retrans, r->ok ? 1 : 0, r->err, r->id,
		r->start_wall, r->rtt_us, r->min_rtt_us, srv);
	fflush(c->out);
	pthread_mutex_unlock(&c->out_mu);
}

/* open loop: start offset (seconds) of flow id; Poisson arrivals, deterministic for a seed */
static double arrival_at(struct client_cfg *c, uint64_t id)
{
	double t;
	pthread_mutex_lock(&c->arr_mu);
	while (c->narr <= id) {
		if (c->narr == c->carr) {
			c->carr = c->carr ? c->carr * 2 : 1024;
			c->arrivals = realloc(c->arrivals, c->carr * sizeof(double));
			if (!c->arrivals)
				die_runtime("client: out of memory");
		}
		double prev = c->narr ? c->arrivals[c->narr - 1] : 0.0;
		double u = unit_at(c->sg.seed, 2, c->narr);
		c->arrivals[c->narr] = prev - log(u) / c->rate;
		c->narr++;
	}
	t = c->arrivals[id];
	pthread_mutex_unlock(&c->arr_mu);
	return t;
}

static void *client_worker(void *arg)
{
	struct client_cfg *c = arg;
	uint8_t *buf = malloc(IOBUF);
	if (!buf)
		die_runtime("client: out of memory");
	for (;;) {
		if (g_stop)
			break;
		if (c->t_end && mono_us() >= c->t_end)
			break;
		uint64_t id = atomic_fetch_add(&c->next_id, 1);
		if (c->count && id >= c->count)
			break;
		if (c->rate > 0) {
			int64_t at = c->t_start + (int64_t)(arrival_at(c, id) * 1e6);
			if (c->t_end && at >= c->t_end)
				break;
			while (!g_stop) {
				int64_t d = at - mono_us();
				if (d <= 0)
					break;
				struct timespec ts = {.tv_sec = d / 1000000, .tv_nsec = (d % 1000000) * 1000};
				nanosleep(&ts, NULL);
			}
			if (g_stop)
				break;
		}
		struct flow_res r;
		memset(&r, 0, sizeof(r));
		r.id = id;
		r.size = size_at(&c->sg, id);
		run_flow(c, &r, buf, IOBUF);
		write_row(c, &r);
		atomic_fetch_add(&c->nflows, 1);
		if (r.ok)
			atomic_fetch_add(&c->nok, 1);
	}
	free(buf);
	return NULL;
}

enum { OPT_SERVER = 256, OPT_PORT, OPT_SIZES, OPT_ORDER, OPT_DIST, OPT_COUNT, OPT_DURATION, OPT_CONC, OPT_RATE,
       OPT_SEED, OPT_PATH, OPT_OUT, OPT_NOHDR, OPT_CC, OPT_BIND, OPT_RCVBUF, OPT_TIMEOUT, OPT_SRVRTX, OPT_HELP,
       OPT_BY, OPT_RANGE, OPT_CSV };

static const char *parse_order(const char *a, bool *cycle)
{
	if (!strcmp(a, "cycle"))
		*cycle = true;
	else if (!strcmp(a, "random"))
		*cycle = false;
	else
		return "expected 'cycle' or 'random'";
	return NULL;
}

static int cmd_client(int argc, char **argv)
{
	static const struct option lo[] = {
		{"server", required_argument, 0, OPT_SERVER},
		{"port", required_argument, 0, OPT_PORT},
		{"sizes", required_argument, 0, OPT_SIZES},
		{"order", required_argument, 0, OPT_ORDER},
		{"dist", required_argument, 0, OPT_DIST},
		{"count", required_argument, 0, OPT_COUNT},
		{"duration", required_argument, 0, OPT_DURATION},
		{"concurrency", required_argument, 0, OPT_CONC},
		{"rate", required_argument, 0, OPT_RATE},
		{"seed", required_argument, 0, OPT_SEED},
		{"path", required_argument, 0, OPT_PATH},
		{"out", required_argument, 0, OPT_OUT},
		{"no-header", no_argument, 0, OPT_NOHDR},
		{"congestion", required_argument, 0, OPT_CC},
		{"bind", required_argument, 0, OPT_BIND},
		{"rcvbuf", required_argument, 0, OPT_RCVBUF},
		{"timeout", required_argument, 0, OPT_TIMEOUT},
		{"srv-retrans", no_argument, 0, OPT_SRVRTX},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0},
	};
	static struct client_cfg c;
	const char *server = NULL, *bindaddr = NULL, *out = NULL, *sizes = NULL, *dist = NULL;
	const char *order = NULL;
	uint64_t port = 0, v;
	bool have_port = false, header = true, have_count = false;
	int o;

	memset(&c, 0, sizeof(c));
	c.conc = 1;
	c.path = "-";
	c.timeout = 30;
	c.sg.seed = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		switch (o) {
		case OPT_SERVER: server = optarg; break;
		case OPT_PORT:
			if (!parse_u64(optarg, &port) || port < 1 || port > 65535)
				die_usage("client: --port: expected 1..65535, got '%s'", optarg);
			have_port = true;
			break;
		case OPT_SIZES: sizes = optarg; break;
		case OPT_ORDER: order = optarg; break;
		case OPT_DIST: dist = optarg; break;
		case OPT_COUNT:
			if (!parse_u64(optarg, &c.count) || c.count < 1)
				die_usage("client: --count: expected a positive integer, got '%s'", optarg);
			have_count = true;
			break;
		case OPT_DURATION:
			if (!parse_double(optarg, &c.duration) || c.duration <= 0)
				die_usage("client: --duration: expected a positive number of seconds, got '%s'", optarg);
			break;
		case OPT_CONC:
			if (!parse_u64(optarg, &v) || v < 1 || v > 10000)
				die_usage("client: --concurrency: expected 1..10000, got '%s'", optarg);
			c.conc = (unsigned)v;
			break;
		case OPT_RATE:
			if (!parse_double(optarg, &c.rate) || c.rate <= 0)
				die_usage("client: --rate: expected a positive number of flows per second, got '%s'", optarg);
			break;
		case OPT_SEED:
			if (!parse_u64(optarg, &c.sg.seed))
				die_usage("client: --seed: expected a non-negative integer, got '%s'", optarg);
			break;
		case OPT_PATH:
			if (!*optarg || strpbrk(optarg, ",\"\n\r"))
				die_usage("client: --path: label must be non-empty without commas, quotes or newlines, got '%s'", optarg);
			c.path = optarg;
			break;
		case OPT_OUT: out = optarg; break;
		case OPT_NOHDR: header = false; break;
		case OPT_CC:
			if (!*optarg || strlen(optarg) >= 16)
				die_usage("client: --congestion: bad algorithm name '%s'", optarg);
			c.cc = optarg;
			break;
		case OPT_BIND: bindaddr = optarg; break;
		case OPT_RCVBUF:
			if (!parse_size(optarg, &c.rcvbuf) || c.rcvbuf > INT_MAX / 2)
				die_usage("client: --rcvbuf: expected a size in bytes, got '%s'", optarg);
			break;
		case OPT_TIMEOUT:
			if (!parse_double(optarg, &c.timeout) || c.timeout <= 0 || c.timeout > 86400)
				die_usage("client: --timeout: expected seconds in (0, 86400], got '%s'", optarg);
			break;
		case OPT_SRVRTX: c.srv_retrans = true; break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case ':':
			die_usage("client: option '%s' needs a value", opt_name(argv, optind));
		default:
			die_usage("client: unknown option '%s'", opt_name(argv, optind));
		}
	}
	if (optind < argc)
		die_usage("client: unexpected argument '%s'", argv[optind]);
	if (!server)
		die_usage("client: --server is required");
	if (!have_port)
		die_usage("client: --port is required");
	if (sizes && dist)
		die_usage("client: --sizes and --dist exclude each other");
	if (order && dist)
		die_usage("client: --order applies to --sizes, not --dist");
	if (order) {
		const char *m = parse_order(order, &c.sg.cycle);
		if (m)
			die_usage("client: --order: %s, got '%s'", m, order);
	}
	if (dist)
		parse_dist(&c.sg, dist);
	else
		parse_sizes_list(&c.sg, sizes ? sizes : "100k");
	if (!have_count && c.duration == 0)
		c.count = 100;
	if (!parse_addr(server, (uint16_t)port, &c.srv, &c.srvlen))
		die_usage("client: --server: bad address '%s'", server);
	if (bindaddr) {
		if (!parse_addr(bindaddr, 0, &c.src, &c.srclen))
			die_usage("client: --bind: bad address '%s'", bindaddr);
		if (c.src.ss_family != c.srv.ss_family)
			die_usage("client: --bind %s and --server %s are of different address families", bindaddr, server);
		c.have_src = true;
	}

	if (out) {
		c.out = fopen(out, "w");
		if (!c.out)
			die_runtime("client: --out %s: %s", out, strerror(errno));
	} else {
		c.out = stdout;
	}
	pthread_mutex_init(&c.out_mu, NULL);
	pthread_mutex_init(&c.arr_mu, NULL);
	install_signals();
	if (header) {
		write_header(c.out);
		fflush(c.out);
	}

	c.t_start = mono_us();
	if (c.duration > 0)
		c.t_end = c.t_start + (int64_t)(c.duration * 1e6);
	unsigned nthreads = c.conc;
	if (c.count && c.count < nthreads)
		nthreads = (unsigned)c.count;
	pthread_t *th = calloc(nthreads, sizeof(*th));
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	unsigned started = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		if (pthread_create(&th[i], &attr, client_worker, &c) != 0) {
			fprintf(stderr, "%s client: pthread_create: %s (running with %u)\n", prog,
				strerror(errno), started);
			break;
		}
		started++;
	}
	if (started == 0)
		die_runtime("client: could not start any worker thread");
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	free(c.arrivals);
	if (c.out != stdout) {
		if (fclose(c.out) != 0)
			die_runtime("client: --out %s: %s", out, strerror(errno));
	} else {
		fflush(stdout);
	}
	fprintf(stderr, "%s client: %" PRIu64 " flows, %" PRIu64 " ok%s\n", prog,
		(uint64_t)atomic_load(&c.nflows), (uint64_t)atomic_load(&c.nok),
		g_stop ? " (interrupted)" : "");
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* sizes                                                                                */

static int cmd_sizes(int argc, char **argv)
{
	static const struct option lo[] = {
		{"sizes", required_argument, 0, OPT_SIZES},
		{"order", required_argument, 0, OPT_ORDER},
		{"dist", required_argument, 0, OPT_DIST},
		{"count", required_argument, 0, OPT_COUNT},
		{"seed", required_argument, 0, OPT_SEED},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0},
	};
	struct sizegen g;
	const char *sizes = NULL, *dist = NULL, *order = NULL;
	uint64_t count = 0;
	int o;

	memset(&g, 0, sizeof(g));
	g.seed = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		switch (o) {
		case OPT_SIZES: sizes = optarg; break;
		case OPT_ORDER: order = optarg; break;
		case OPT_DIST: dist = optarg; break;
		case OPT_COUNT:
			if (!parse_u64(optarg, &count) || count < 1)
				die_usage("sizes: --count: expected a positive integer, got '%s'", optarg);
			break;
		case OPT_SEED:
			if (!parse_u64(optarg, &g.seed))
				die_usage("sizes: --seed: expected a non-negative integer, got '%s'", optarg);
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case ':':
			die_usage("sizes: option '%s' needs a value", opt_name(argv, optind));
		default:
			die_usage("sizes: unknown option '%s'", opt_name(argv, optind));
		}
	}
	if (optind < argc)
		die_usage("sizes: unexpected argument '%s'", argv[optind]);
	if (!count)
		die_usage("sizes: --count is required");
	if (sizes && dist)
		die_usage("sizes: --sizes and --dist exclude each other");
	if (order && dist)
		die_usage("sizes: --order applies to --sizes, not --dist");
	if (order) {
		const char *m = parse_order(order, &g.cycle);
		if (m)
			die_usage("sizes: --order: %s, got '%s'", m, order);
	}
	if (dist)
		parse_dist(&g, dist);
	else
		parse_sizes_list(&g, sizes ? sizes : "100k");
	for (uint64_t i = 0; i < count; i++)
		printf("%" PRIu64 "\n", size_at(&g, i));
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* summarize                                                                            */

struct row {
	uint64_t size;
	int64_t connect_us, fct_us;
	long retrans;
	long srv_retrans, srv_segs; /* -1 = absent */
	bool ok;
	char *key;
};

struct group {
	char *key;   /* display label */
	char *kpath; /* sort keys */
	uint64_t ksize, kclass;
	size_t n, nok, nerr;
	double *fct, *conn;
	size_t nfct, nconn;
	long cli_rtx;
	long srv_rtx, srv_segs, srv_rtx_flows;
	size_t nsrv;
};

enum { K_PATH, K_SIZE, K_CLASS };
static int g_keys[3], g_nkeys;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
	if (!n)
		return NAN;
	size_t k = (size_t)ceil(p / 100.0 * (double)n);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static double mean(const double *v, size_t n)
{
	double s = 0;
	if (!n)
		return NAN;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

static void size_class_label(uint64_t s, char *b, size_t bl)
{
	static const char *u[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	int l = 0;
	while (l < 61 && (UINT64_C(1) << (l + 1)) <= s)
		l++;
	/* [2^l, 2^(l+1)) */
	int lo = l, hi = l + 1;
	snprintf(b, bl, "%" PRIu64 "%s-%" PRIu64 "%s", UINT64_C(1) << (lo % 10), u[lo / 10],
		 UINT64_C(1) << (hi % 10), u[hi / 10]);
}

/* split a CSV line in place (no quoting: flowgen never writes quotes) */
static int split_csv(char *line, char **f, int maxf)
{
	int n = 0;
	char *p = line;
	size_t l = strlen(p);
	while (l && (p[l - 1] == '\n' || p[l - 1] == '\r'))
		p[--l] = 0;
	for (;;) {
		if (n < maxf)
			f[n++] = p;
		char *c = strchr(p, ',');
		if (!c)
			break;
		*c = 0;
		p = c + 1;
	}
	return n;
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	for (int k = 0; k < g_nkeys; k++) {
		int c = 0;
		if (g_keys[k] == K_PATH)
			c = strcmp(x->kpath, y->kpath);
		else if (g_keys[k] == K_SIZE)
			c = (x->ksize > y->ksize) - (x->ksize < y->ksize);
		else
			c = (x->kclass > y->kclass) - (x->kclass < y->kclass);
		if (c)
			return c;
	}
	return 0;
}

static uint64_t size_class_of(uint64_t s)
{
	int l = 0;
	while (l < 62 && (UINT64_C(1) << (l + 1)) <= s)
		l++;
	return UINT64_C(1) << l;
}

static int cmd_summarize(int argc, char **argv)
{
	static const struct option lo[] = {
		{"by", required_argument, 0, OPT_BY},
		{"size-range", required_argument, 0, OPT_RANGE},
		{"csv", no_argument, 0, OPT_CSV},
		{"help", no_argument, 0, OPT_HELP},
		{0, 0, 0, 0},
	};
	const char *by = "path,size";
	bool csv = false;
	uint64_t rmin = 0, rmax = UINT64_MAX;
	const char *file = NULL;
	int o;

	opterr = 0;
	/* permute: FILE may come before or after the options */
	while ((o = getopt_long(argc, argv, "-:", lo, NULL)) != -1) {
		switch (o) {
		case 1:
			if (file)
				die_usage("summarize: more than one input file ('%s', '%s')", file, optarg);
			file = optarg;
			break;
		case OPT_BY: by = optarg; break;
		case OPT_RANGE: {
			char *dup = strdup(optarg);
			char *colon = strchr(dup, ':');
			if (!colon)
				die_usage("summarize: --size-range: expected MIN:MAX, got '%s'", optarg);
			*colon = 0;
			if ((*dup && !parse_size(dup, &rmin)) || (colon[1] && !parse_size(colon + 1, &rmax)) ||
			    rmax < rmin)
				die_usage("summarize: --size-range: bad range '%s'", optarg);
			free(dup);
			break;
		}
		case OPT_CSV: csv = true; break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case ':':
			die_usage("summarize: option '%s' needs a value", opt_name(argv, optind));
		default:
			die_usage("summarize: unknown option '%s'", opt_name(argv, optind));
		}
	}
	if (!file)
		die_usage("summarize: an input file is required ('-' for stdin)");

	/* keys */
	int *keys = g_keys, nkeys = 0;
	{
		char *dup = strdup(by), *save = NULL;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			int k;
			if (!strcmp(t, "none"))
				continue;
			if (!strcmp(t, "path"))
				k = K_PATH;
			else if (!strcmp(t, "size"))
				k = K_SIZE;
			else if (!strcmp(t, "class"))
				k = K_CLASS;
			else
				die_usage("summarize: --by: unknown key '%s' (expected path, size, class, none)", t);
			if (nkeys >= 3)
				die_usage("summarize: --by: too many keys in '%s'", by);
			keys[nkeys++] = k;
		}
		free(dup);
	}
	g_nkeys = nkeys;

	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!f)
		die_runtime("summarize: %s: %s", file, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int col[16];
	static const char *need[] = {"path", "size", "connect_us", "fct_us", "retrans", "ok",
				     "srv_retrans", "srv_segs"};
	enum { C_PATH, C_SIZE, C_CONN, C_FCT, C_RTX, C_OK, C_SRTX, C_SSEGS, C_N };
	for (int i = 0; i < C_N; i++)
		col[i] = -1;
	if ((len = getline(&line, &cap, f)) <= 0) {
		fprintf(stderr, "%s: summarize: %s: empty file\n", prog, file);
		exit(2);
	}
	{
		char *fl[64];
		int nf = split_csv(line, fl, 64);
		for (int i = 0; i < nf; i++)
			for (int j = 0; j < C_N; j++)
				if (!strcmp(fl[i], need[j]))
					col[j] = i;
		for (int j = 0; j < C_SRTX; j++)
			if (col[j] < 0) {
				fprintf(stderr, "%s: summarize: %s line 1: missing column '%s'\n", prog, file, need[j]);
				exit(2);
			}
	}

	struct group *gs = NULL;
	size_t ng = 0, gcap = 0;
	long lineno = 1;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		char *fl[64];
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (!strncmp(line, "path,", 5))
			continue; /* a repeated header (concatenated files) */
		int nf = split_csv(line, fl, 64);
		int maxc = 0;
		for (int j = 0; j < C_SRTX; j++)
			if (col[j] > maxc)
				maxc = col[j];
		if (nf <= maxc) {
			fprintf(stderr, "%s: summarize: %s line %ld: %d fields, expected at least %d\n", prog,
				file, lineno, nf, maxc + 1);
			exit(2);
		}
		uint64_t size;
		if (!parse_u64(fl[col[C_SIZE]], &size)) {
			fprintf(stderr, "%s: summarize: %s line %ld: bad size '%s'\n", prog, file, lineno,
				fl[col[C_SIZE]]);
			exit(2);
		}
		if (size < rmin || size > rmax)
			continue;
		struct row r;
		r.size = size;
		r.connect_us = strtoll(fl[col[C_CONN]], NULL, 10);
		r.fct_us = strtoll(fl[col[C_FCT]], NULL, 10);
		r.retrans = strtol(fl[col[C_RTX]], NULL, 10);
		r.ok = !strcmp(fl[col[C_OK]], "1");
		r.srv_retrans = r.srv_segs = -1;
		if (col[C_SRTX] >= 0 && col[C_SRTX] < nf && *fl[col[C_SRTX]])
			r.srv_retrans = strtol(fl[col[C_SRTX]], NULL, 10);
		if (col[C_SSEGS] >= 0 && col[C_SSEGS] < nf && *fl[col[C_SSEGS]])
			r.srv_segs = strtol(fl[col[C_SSEGS]], NULL, 10);

		char key[256] = "";
		size_t kl = 0;
		for (int k = 0; k < nkeys; k++) {
			char part[96];
			if (keys[k] == K_PATH)
				snprintf(part, sizeof(part), "%s", fl[col[C_PATH]]);
			else if (keys[k] == K_SIZE)
				snprintf(part, sizeof(part), "%" PRIu64, size);
			else
				size_class_label(size, part, sizeof(part));
			kl += (size_t)snprintf(key + kl, sizeof(key) - kl, "%s%s", k ? "," : "", part);
			if (kl >= sizeof(key))
				kl = sizeof(key) - 1;
		}
		if (!nkeys)
			snprintf(key, sizeof(key), "all");

		const char *rpath = fl[col[C_PATH]];
		uint64_t rclass = size_class_of(size);
		struct group *g = NULL;
		for (size_t i = 0; i < ng; i++)
			if (!strcmp(gs[i].key, key)) {
				g = &gs[i];
				break;
			}
		if (!g) {
			if (ng == gcap) {
				gcap = gcap ? gcap * 2 : 16;
				gs = realloc(gs, gcap * sizeof(*gs));
				if (!gs)
					die_runtime("summarize: out of memory");
			}
			g = &gs[ng++];
			memset(g, 0, sizeof(*g));
			g->key = strdup(key);
			g->kpath = strdup(rpath);
			g->ksize = size;
			g->kclass = rclass;
		}
		g->n++;
		g->fct = realloc(g->fct, g->n * sizeof(double));
		g->conn = realloc(g->conn, g->n * sizeof(double));
		if (!g->fct || !g->conn)
			die_runtime("summarize: out of memory");
		if (r.ok) {
			g->nok++;
			g->fct[g->nfct++] = (double)r.fct_us;
		} else {
			g->nerr++;
		}
		if (r.connect_us >= 0 && r.ok)
			g->conn[g->nconn++] = (double)r.connect_us;
		g->cli_rtx += r.retrans;
		if (r.srv_retrans >= 0) {
			g->nsrv++;
			g->srv_rtx += r.srv_retrans;
			if (r.srv_retrans > 0)
				g->srv_rtx_flows++;
			if (r.srv_segs > 0)
				g->srv_segs += r.srv_segs;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);

	/* order groups by the keys in --by order: paths by name, sizes numerically */
	qsort(gs, ng, sizeof(*gs), group_cmp);

	if (csv)
		printf("key,flows,ok,errors,fct_mean_us,fct_p50_us,fct_p95_us,fct_p99_us,"
		       "connect_mean_us,connect_p50_us,connect_p95_us,connect_p99_us,"
		       "cli_retrans_per_flow,srv_retrans_per_flow,srv_retrans_flow_share,srv_retrans_seg_rate\n");
	else
		printf("%-24s %6s %5s %5s %9s %9s %9s %9s %8s %8s %8s %7s %7s %7s\n", "group", "flows", "ok",
		       "err", "fct_mean", "fct_p50", "fct_p95", "fct_p99", "con_mean", "con_p50",
		       "con_p99", "srv_rtx", "rtx_fl%", "rtx_sg%");
	for (size_t i = 0; i < ng; i++) {
		struct group *g = &gs[i];
		qsort(g->fct, g->nfct, sizeof(double), cmp_double);
		qsort(g->conn, g->nconn, sizeof(double), cmp_double);
		double fm = mean(g->fct, g->nfct), cm = mean(g->conn, g->nconn);
		double crx = g->n ? (double)g->cli_rtx / (double)g->n : NAN;
		double srx = g->nsrv ? (double)g->srv_rtx / (double)g->nsrv : NAN;
		double sfl = g->nsrv ? (double)g->srv_rtx_flows / (double)g->nsrv : NAN;
		double ssg = g->srv_segs ? (double)g->srv_rtx / (double)g->srv_segs : NAN;
		if (csv) {
			/* key may hold commas: replace by '/' to keep the CSV shape */
			for (char *p = g->key; *p; p++)
				if (*p == ',')
					*p = '/';
			printf("%s,%zu,%zu,%zu,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.3f,", g->key, g->n,
			       g->nok, g->nerr, fm, pct(g->fct, g->nfct, 50), pct(g->fct, g->nfct, 95),
			       pct(g->fct, g->nfct, 99), cm, pct(g->conn, g->nconn, 50),
			       pct(g->conn, g->nconn, 95), pct(g->conn, g->nconn, 99), crx);
			if (g->nsrv)
				printf("%.3f,%.4f,", srx, sfl);
			else
				printf(",,");
			if (g->srv_segs)
				printf("%.5f\n", ssg);
			else
				printf("\n");
		} else {
			char a[16] = "-", b[16] = "-", cc[16] = "-";
			if (g->nsrv) {
				snprintf(a, sizeof(a), "%.2f", srx);
				snprintf(b, sizeof(b), "%.1f", 100 * sfl);
			}
			if (g->srv_segs)
				snprintf(cc, sizeof(cc), "%.2f", 100 * ssg);
			printf("%-24s %6zu %5zu %5zu %9.1f %9.1f %9.1f %9.1f %8.1f %8.1f %8.1f %7s %7s %7s\n",
			       g->key, g->n, g->nok, g->nerr, fm / 1e3, pct(g->fct, g->nfct, 50) / 1e3,
			       pct(g->fct, g->nfct, 95) / 1e3, pct(g->fct, g->nfct, 99) / 1e3, cm / 1e3,
			       pct(g->conn, g->nconn, 50) / 1e3, pct(g->conn, g->nconn, 99) / 1e3, a, b, cc);
		}
		free(g->fct);
		free(g->conn);
		free(g->key);
		free(g->kpath);
	}
	if (!csv)
		printf("(times in ms over ok flows; srv_rtx = server retransmits per flow, rtx_fl%% = flows "
		       "with a server retransmit, rtx_sg%% = server segments retransmitted)\n");
	free(gs);
	return 0;
}

/* ------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	if (argc < 2)
		die_usage("missing command (server, client, summarize or sizes)");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	/* subcommand sees argv[0] = command name */
	argc -= 1;
	argv += 1;
	optind = 1;
	if (!strcmp(cmd, "server"))
		return cmd_server(argc, argv);
	if (!strcmp(cmd, "client"))
		return cmd_client(argc, argv);
	if (!strcmp(cmd, "summarize"))
		return cmd_summarize(argc, argv);
	if (!strcmp(cmd, "sizes"))
		return cmd_sizes(argc, argv);
	die_usage("unknown command '%s' (expected server, client, summarize or sizes)", cmd);
}
