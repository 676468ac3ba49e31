// SPDX-License-Identifier: GPL-2.0
/* flowgen server: one epoll thread, non-blocking sockets, one request per connection. */
#include "flowgen.h"

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

/* Every connection waiting on listener lfd. */
static void accept_all(int ep, int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "%s server: accept: %s\n", prog, strerror(errno));
			return;
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
}

/* Close connections without progress for idle seconds. */
static void sweep_idle(int ep, uint64_t idle, int64_t now)
{
	for (struct conn *c = g_conns, *nx; c; c = nx) {
		nx = c->next;
		if (now - c->last_us > (int64_t)idle * 1000000)
			conn_close(ep, c);
	}
}

struct server_args {
	const char *binds[MAX_BINDS];
	int nbinds;
	uint64_t port, idle;
	const char *cc;
};

static void server_args(int argc, char **argv, struct server_args *a)
{
	static const struct option lo[] = {
		{"port", required_argument, 0, 'p'},
		{"bind", required_argument, 0, 'b'},
		{"congestion", required_argument, 0, 'c'},
		{"idle-timeout", required_argument, 0, 'i'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	bool have_port = false;
	int o;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:", lo, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (!parse_u64(optarg, &a->port) || a->port < 1 || a->port > 65535)
				die_usage("server: --port: expected 1..65535, got '%s'", optarg);
			have_port = true;
			break;
		case 'b':
			if (a->nbinds >= MAX_BINDS)
				die_usage("server: --bind: at most %d addresses", MAX_BINDS);
			a->binds[a->nbinds++] = optarg;
			break;
		case 'c':
			if (!*optarg || strlen(optarg) >= 16)
				die_usage("server: --congestion: bad algorithm name '%s'", optarg);
			a->cc = optarg;
			break;
		case 'i':
			if (!parse_u64(optarg, &a->idle) || a->idle < 1 || a->idle > 86400)
				die_usage("server: --idle-timeout: expected 1..86400 seconds, got '%s'", optarg);
			break;
		default:
			opt_other("server", o, argv); /* --help, a missing value, an unknown option */
		}
	}
	if (optind < argc)
		die_usage("server: unexpected argument '%s'", argv[optind]);
	if (!have_port)
		die_usage("server: --port is required");
}

int cmd_server(int argc, char **argv)
{
	struct server_args a = { .idle = 60 };

	server_args(argc, argv, &a);
	install_signals();
	memset(g_payload, 'x', sizeof(g_payload));

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die_runtime("server: epoll_create1: %s", strerror(errno));
	int lfds[MAX_BINDS];
	int nl = a.nbinds ? a.nbinds : 1;
	for (int i = 0; i < nl; i++) {
		char desc[128];
		lfds[i] = open_listener(a.nbinds ? a.binds[i] : NULL, (uint16_t)a.port, a.cc, desc, sizeof(desc));
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
				accept_all(ep, lfds[u]);
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
			sweep_idle(ep, a.idle, now);
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

