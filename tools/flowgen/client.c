// SPDX-License-Identifier: GPL-2.0
/* flowgen client: one new connection per request, one CSV row per flow. */
#include "flowgen.h"

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

/* A socket with the flow's options (congestion control, receive buffer, source
 * address), or -1 with r failed (fct 0). */
static int flow_socket(struct client_cfg *c, struct flow_res *r)
{
	int fd, one = 1;

	fd = socket(c->srv.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		flow_fail(r, "socket", errname(errno));
		r->fct_us = 0;
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, c->cc, (socklen_t)strlen(c->cc)) < 0) {
		flow_fail(r, "congestion", errname(errno));
		r->fct_us = 0;
		close(fd);
		return -1;
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
			close(fd);
			return -1;
		}
	}
	return fd;
}

static bool flow_connect(struct client_cfg *c, struct flow_res *r, int fd, int64_t deadline)
{
	socklen_t el;
	int e;

	if (connect(fd, (struct sockaddr *)&c->srv, c->srvlen) < 0) {
		if (errno != EINPROGRESS) {
			flow_fail(r, "connect", errname(errno));
			return false;
		}
		int w = wait_fd(fd, POLLOUT, deadline);
		if (w <= 0) {
			flow_fail(r, w == 0 ? "timeout" : "interrupted", "connect");
			return false;
		}
		el = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
			e = errno;
		if (e) {
			flow_fail(r, "connect", errname(e));
			return false;
		}
	}
	return true;
}

/* The 8-byte request: size, and the trailer flag. */
static bool flow_request(struct client_cfg *c, struct flow_res *r, int fd, int64_t deadline)
{
	uint8_t req[8];
	size_t sent = 0;

	put_be64(req, (r->size & REQ_SIZE_MASK) | (c->srv_retrans ? REQ_TRAILER : 0));
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
				return false;
			}
			continue;
		}
		flow_fail(r, "send", errname(errno));
		return false;
	}
	return true;
}

/* Every payload byte. */
static bool flow_receive(struct flow_res *r, int fd, uint8_t *buf, size_t bufsz, int64_t deadline)
{
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
			return false;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			int w = wait_fd(fd, POLLIN, deadline);
			if (w <= 0) {
				char m[64];
				snprintf(m, sizeof(m), "recv %" PRIu64 "/%" PRIu64, r->got, r->size);
				flow_fail(r, w == 0 ? "timeout" : "interrupted", m);
				return false;
			}
			continue;
		}
		flow_fail(r, "recv", errname(errno));
		return false;
	}
	return true;
}

/* Our side's retransmits and RTTs from TCP_INFO. */
static void flow_tcp_info(int fd, struct flow_res *r)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0) {
		r->retrans = ti.tcpi_total_retrans;
		r->rtt_us = ti.tcpi_rtt;
		r->min_rtt_us = ti.tcpi_min_rtt == UINT32_MAX ? 0 : ti.tcpi_min_rtt;
	}
}

/* One byte asks for the server's trailer (its retransmits and segments);
 * failures here do not make the flow not-ok, they only leave r->err. */
static void flow_trailer(struct flow_res *r, int fd, int64_t deadline)
{
	uint8_t ack = 1, tr[TRAILER_LEN];
	size_t trg = 0;

	if (send(fd, &ack, 1, MSG_NOSIGNAL) != 1) {
		snprintf(r->err, sizeof(r->err), "trailer:%s", errname(errno));
		return;
	}
	while (trg < TRAILER_LEN) {
		ssize_t n = recv(fd, tr + trg, TRAILER_LEN - trg, 0);
		if (n > 0) {
			trg += (size_t)n;
			continue;
		}
		if (n == 0) {
			snprintf(r->err, sizeof(r->err), "trailer:eof");
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			int w = wait_fd(fd, POLLIN, deadline);
			if (w <= 0) {
				snprintf(r->err, sizeof(r->err), "trailer:timeout");
				return;
			}
			continue;
		}
		snprintf(r->err, sizeof(r->err), "trailer:%s", errname(errno));
		return;
	}
	r->have_srv = true;
	r->srv_retrans = get_be32(tr);
	r->srv_segs = get_be32(tr + 4);
}

/* One flow: connect, request, receive (the FCT), then TCP_INFO and the trailer. */
static void run_flow(struct client_cfg *c, struct flow_res *r, uint8_t *buf, size_t bufsz)
{
	int64_t t0, deadline;
	int fd;

	r->ok = false;
	r->connect_us = -1;
	r->err[0] = 0;
	r->start_wall = wall_us();
	fd = flow_socket(c, r);
	if (fd < 0)
		return;
	t0 = mono_us();
	deadline = t0 + (int64_t)(c->timeout * 1e6);
	r->start_wall = wall_us();
	if (!flow_connect(c, r, fd, deadline))
		goto fail;
	r->connect_us = mono_us() - t0;
	if (!flow_request(c, r, fd, deadline) || !flow_receive(r, fd, buf, bufsz, deadline))
		goto fail;
	r->fct_us = mono_us() - t0;
	r->ok = true;
	flow_tcp_info(fd, r);
	if (c->srv_retrans)
		flow_trailer(r, fd, deadline);
	close(fd);
	return;
fail:
	r->fct_us = mono_us() - t0;
	flow_tcp_info(fd, r);
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


static const struct option client_lo[] = {
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

/* The options that are not fields of client_cfg. */
struct client_args {
	const char *server, *bindaddr, *out, *sizes, *dist, *order;
	uint64_t port;
	bool have_port, header, have_count;
};

static void client_opt(int o, char **argv, struct client_cfg *c, struct client_args *a)
{
	uint64_t v;

	switch (o) {
	case OPT_SERVER: a->server = optarg; break;
	case OPT_PORT:
		if (!parse_u64(optarg, &a->port) || a->port < 1 || a->port > 65535)
			die_usage("client: --port: expected 1..65535, got '%s'", optarg);
		a->have_port = true;
		break;
	case OPT_SIZES: a->sizes = optarg; break;
	case OPT_ORDER: a->order = optarg; break;
	case OPT_DIST: a->dist = optarg; break;
	case OPT_COUNT:
		if (!parse_u64(optarg, &c->count) || c->count < 1)
			die_usage("client: --count: expected a positive integer, got '%s'", optarg);
		a->have_count = true;
		break;
	case OPT_DURATION:
		if (!parse_double(optarg, &c->duration) || c->duration <= 0)
			die_usage("client: --duration: expected a positive number of seconds, got '%s'", optarg);
		break;
	case OPT_CONC:
		if (!parse_u64(optarg, &v) || v < 1 || v > 10000)
			die_usage("client: --concurrency: expected 1..10000, got '%s'", optarg);
		c->conc = (unsigned)v;
		break;
	case OPT_RATE:
		if (!parse_double(optarg, &c->rate) || c->rate <= 0)
			die_usage("client: --rate: expected a positive number of flows per second, got '%s'", optarg);
		break;
	case OPT_SEED:
		if (!parse_u64(optarg, &c->sg.seed))
			die_usage("client: --seed: expected a non-negative integer, got '%s'", optarg);
		break;
	case OPT_PATH:
		if (!*optarg || strpbrk(optarg, ",\"\n\r"))
			die_usage("client: --path: label must be non-empty without commas, quotes or newlines, got '%s'", optarg);
		c->path = optarg;
		break;
	case OPT_OUT: a->out = optarg; break;
	case OPT_NOHDR: a->header = false; break;
	case OPT_CC:
		if (!*optarg || strlen(optarg) >= 16)
			die_usage("client: --congestion: bad algorithm name '%s'", optarg);
		c->cc = optarg;
		break;
	case OPT_BIND: a->bindaddr = optarg; break;
	case OPT_RCVBUF:
		if (!parse_size(optarg, &c->rcvbuf) || c->rcvbuf > INT_MAX / 2)
			die_usage("client: --rcvbuf: expected a size in bytes, got '%s'", optarg);
		break;
	case OPT_TIMEOUT:
		if (!parse_double(optarg, &c->timeout) || c->timeout <= 0 || c->timeout > 86400)
			die_usage("client: --timeout: expected seconds in (0, 86400], got '%s'", optarg);
		break;
	case OPT_SRVRTX: c->srv_retrans = true; break;
	default:
		opt_other("client", o, argv); /* --help, a missing value, an unknown option */
	}
}

/* What the options say together: required ones, exclusions, defaults, addresses. */
static void client_check(struct client_cfg *c, const struct client_args *a)
{
	if (!a->server)
		die_usage("client: --server is required");
	if (!a->have_port)
		die_usage("client: --port is required");
	if (a->sizes && a->dist)
		die_usage("client: --sizes and --dist exclude each other");
	if (a->order && a->dist)
		die_usage("client: --order applies to --sizes, not --dist");
	if (a->order) {
		const char *m = parse_order(a->order, &c->sg.cycle);
		if (m)
			die_usage("client: --order: %s, got '%s'", m, a->order);
	}
	if (a->dist)
		parse_dist(&c->sg, a->dist);
	else
		parse_sizes_list(&c->sg, a->sizes ? a->sizes : "100k");
	if (!a->have_count && c->duration == 0)
		c->count = 100;
	if (!parse_addr(a->server, (uint16_t)a->port, &c->srv, &c->srvlen))
		die_usage("client: --server: bad address '%s'", a->server);
	if (a->bindaddr) {
		if (!parse_addr(a->bindaddr, 0, &c->src, &c->srclen))
			die_usage("client: --bind: bad address '%s'", a->bindaddr);
		if (c->src.ss_family != c->srv.ss_family)
			die_usage("client: --bind %s and --server %s are of different address families", a->bindaddr, a->server);
		c->have_src = true;
	}
}

/* Output, locks, signals, the header line. */
static void client_setup(struct client_cfg *c, const struct client_args *a)
{
	if (a->out) {
		c->out = fopen(a->out, "w");
		if (!c->out)
			die_runtime("client: --out %s: %s", a->out, strerror(errno));
	} else {
		c->out = stdout;
	}
	pthread_mutex_init(&c->out_mu, NULL);
	pthread_mutex_init(&c->arr_mu, NULL);
	install_signals();
	if (a->header) {
		write_header(c->out);
		fflush(c->out);
	}
}

/* The workers, until every flow is done (or a signal came), then the summary line. */
static void client_run(struct client_cfg *c, const char *out)
{
	c->t_start = mono_us();
	if (c->duration > 0)
		c->t_end = c->t_start + (int64_t)(c->duration * 1e6);
	unsigned nthreads = c->conc;
	if (c->count && c->count < nthreads)
		nthreads = (unsigned)c->count;
	pthread_t *th = calloc(nthreads, sizeof(*th));
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	unsigned started = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		if (pthread_create(&th[i], &attr, client_worker, c) != 0) {
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
	free(c->arrivals);
	if (c->out != stdout) {
		if (fclose(c->out) != 0)
			die_runtime("client: --out %s: %s", out, strerror(errno));
	} else {
		fflush(stdout);
	}
	fprintf(stderr, "%s client: %" PRIu64 " flows, %" PRIu64 " ok%s\n", prog,
		(uint64_t)atomic_load(&c->nflows), (uint64_t)atomic_load(&c->nok),
		g_stop ? " (interrupted)" : "");
}

int cmd_client(int argc, char **argv)
{
	static struct client_cfg c;
	struct client_args a = { .header = true };
	int o;

	memset(&c, 0, sizeof(c));
	c.conc = 1;
	c.path = "-";
	c.timeout = 30;
	c.sg.seed = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:", client_lo, NULL)) != -1)
		client_opt(o, argv, &c, &a);
	if (optind < argc)
		die_usage("client: unexpected argument '%s'", argv[optind]);
	client_check(&c, &a);
	client_setup(&c, &a);
	client_run(&c, a.out);
	return 0;
}
