// SPDX-License-Identifier: MIT
/*
 * pathemu — a user-space link emulator for the learnd testbed.
 *
 * Joins two network namespaces through a pair of TUN devices (one created in
 * each namespace) and forwards IP packets both ways. Per direction it models
 *
 *   arrival ─▶ SYN loss ─▶ random loss ─▶ drop-tail queue ─▶ bottleneck ─▶ delay ─▶ out
 *
 * - SYN loss: TCP segments with SYN set (SYN and SYN-ACK, IPv4 and IPv6)
 *   are dropped with probability syn_loss.
 * - random loss: any packet is dropped with probability loss.
 * - queue: packets waiting for the bottleneck (not counting the one being
 *   serialized). A packet arriving when queue_pkts packets are waiting is
 *   dropped (drop-tail). A packet that finds the link idle never waits.
 * - bottleneck: a packet starts at max(arrival, previous departure) and leaves
 *   len*8/rate later (rate_mbit = 0: unlimited, no queue).
 * - delay: the one-way propagation delay, added after the bottleneck.
 *
 * Packets are never reordered: a packet never leaves before the one ahead of
 * it, also when the delay is lowered while packets are in flight.
 *
 * Parameters come from a key=value file, re-read on SIGHUP. Counters are
 * written to the stats file at start, on SIGHUP and SIGUSR1, and at exit.
 * See --help and docs/testbed.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "prng.h" /* tools/sim: seeded, the same as the tests' */

#define PATHEMU_VERSION "1.0"
#define NSEC_PER_SEC 1000000000ULL
#define T_NEVER UINT64_MAX
#define READ_BUF 65536
#define READ_BURST 64            /* packets read from one device per loop turn */
#define MAX_INFLIGHT 200000      /* per direction, queued + in the delay line */

/* ---------------------------------------------------------------- params */

struct params {
	double delay_ms;   /* one-way propagation delay */
	double rate_mbit;  /* bottleneck rate, 0 = unlimited */
	long queue_pkts;   /* drop-tail limit of packets waiting for the bottleneck */
	double loss;       /* random loss probability */
	double syn_loss;   /* loss probability of TCP segments with SYN set */
};

static const struct params default_params = {
	.delay_ms = 0, .rate_mbit = 0, .queue_pkts = 1000, .loss = 0, .syn_loss = 0,
};

/* ---------------------------------------------------------------- packets */

struct pkt {
	struct pkt *next;
	uint64_t t_arr;  /* arrival at the emulator */
	uint64_t t_out;  /* when it leaves the emulator (set at bottleneck start) */
	uint32_t len;
	unsigned char data[];
};

struct fifo {
	struct pkt *head, *tail;
	uint64_t n;
};

static void fifo_push(struct fifo *f, struct pkt *p)
{
	p->next = NULL;
	if (f->tail)
		f->tail->next = p;
	else
		f->head = p;
	f->tail = p;
	f->n++;
}

static struct pkt *fifo_pop(struct fifo *f)
{
	struct pkt *p = f->head;
	if (!p)
		return NULL;
	f->head = p->next;
	if (!f->head)
		f->tail = NULL;
	f->n--;
	return p;
}

static void fifo_free(struct fifo *f)
{
	struct pkt *p;
	while ((p = fifo_pop(f)))
		free(p);
}

/* -------------------------------------------------------------- direction */

struct counters {
	uint64_t rx_pkts, rx_bytes;       /* read from the input device */
	uint64_t fwd_pkts, fwd_bytes;     /* written to the output device */
	uint64_t drop_queue;              /* drop-tail: queue full */
	uint64_t drop_loss;               /* random loss */
	uint64_t drop_syn;                /* SYN loss */
	uint64_t drop_other;              /* memory cap, write errors */
	uint64_t max_queue;               /* most packets ever waiting */
	uint64_t queue_at_change;         /* packets waiting at the last parameter change */
	uint64_t late_max_ns;             /* latest a packet left after its due time */
	uint64_t late_1ms;                /* packets that left more than 1 ms late */
};

struct dir {
	const char *name;      /* "a2b" or "b2a" */
	int in_fd, out_fd;
	struct params p;
	uint64_t delay_ns;
	double ns_per_byte;    /* 0 = unlimited rate */
	struct fifo bq;        /* waiting for the bottleneck */
	struct fifo dl;        /* on the wire: serialized, in propagation delay */
	uint64_t busy_until;   /* when the bottleneck finishes its current packet */
	uint64_t last_out;     /* departure time of the last packet handed to dl */
	struct rng rng;
	struct counters c;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void dir_apply_params(struct dir *d, const struct params *p)
{
	d->p = *p;
	d->delay_ns = (uint64_t)llround(p->delay_ms * 1e6);
	d->ns_per_byte = p->rate_mbit > 0 ? 8.0 * 1e3 / p->rate_mbit : 0.0;
}

/* start time at the bottleneck of the head of the queue, T_NEVER if none */
static uint64_t head_start(const struct dir *d)
{
	if (!d->bq.head)
		return T_NEVER;
	return max_u64(d->bq.head->t_arr, d->busy_until);
}

/*
 * Move every packet whose bottleneck service has started by `now` from the
 * queue to the delay line. Times are virtual (from arrival times and the
 * previous departure), so late wake-ups do not cost rate.
 */
static void serve(struct dir *d, uint64_t now)
{
	while (d->bq.head) {
		struct pkt *p = d->bq.head;
		uint64_t start = max_u64(p->t_arr, d->busy_until);
		if (start > now)
			break;
		uint64_t ser = (uint64_t)llround((double)p->len * d->ns_per_byte);
		uint64_t done = start + ser;
		d->busy_until = done;
		uint64_t out = max_u64(done + d->delay_ns, d->last_out);
		d->last_out = out;
		p->t_out = out;
		fifo_pop(&d->bq);
		fifo_push(&d->dl, p);
	}
}

/* next time something must happen in this direction, T_NEVER if idle */
static uint64_t next_event(const struct dir *d)
{
	uint64_t t = T_NEVER;
	if (d->dl.head)
		t = d->dl.head->t_out;
	if (d->bq.head) {
		const struct pkt *p = d->bq.head;
		uint64_t start = head_start(d);
		uint64_t ser = (uint64_t)llround((double)p->len * d->ns_per_byte);
		uint64_t out = max_u64(start + ser + d->delay_ns, d->last_out);
		if (out < t)
			t = out;
	}
	return t;
}

static void deliver(struct dir *d, uint64_t now)
{
	serve(d, now);
	while (d->dl.head && d->dl.head->t_out <= now) {
		struct pkt *p = fifo_pop(&d->dl);
		uint64_t late = now - p->t_out;
		if (late > d->c.late_max_ns)
			d->c.late_max_ns = late;
		if (late > 1000000)
			d->c.late_1ms++;
		ssize_t w = write(d->out_fd, p->data, p->len);
		if (w == (ssize_t)p->len) {
			d->c.fwd_pkts++;
			d->c.fwd_bytes += p->len;
		} else {
			d->c.drop_other++;
		}
		free(p);
	}
}

/* TCP segment with SYN set? IPv4 (first fragment) and IPv6 without extension headers */
static bool is_tcp_syn(const unsigned char *b, size_t len)
{
	if (len < 1)
		return false;
	unsigned v = b[0] >> 4;
	size_t off;
	if (v == 4) {
		if (len < 20)
			return false;
		size_t ihl = (size_t)(b[0] & 0x0f) * 4;
		if (ihl < 20 || b[9] != 6 /* IPPROTO_TCP */)
			return false;
		if (((b[6] & 0x1f) << 8 | b[7]) != 0) /* not the first fragment */
			return false;
		off = ihl;
	} else if (v == 6) {
		if (len < 40 || b[6] != 6)
			return false;
		off = 40;
	} else {
		return false;
	}
	if (len < off + 14)
		return false;
	return (b[off + 13] & 0x02) != 0;
}

static void arrive(struct dir *d, const unsigned char *buf, size_t len, uint64_t now)
{
	d->c.rx_pkts++;
	d->c.rx_bytes += len;
	if (d->p.syn_loss > 0 && is_tcp_syn(buf, len) && rng_chance(&d->rng, d->p.syn_loss)) {
		d->c.drop_syn++;
		return;
	}
	if (rng_chance(&d->rng, d->p.loss)) {
		d->c.drop_loss++;
		return;
	}
	serve(d, now);
	bool idle = !d->bq.head && d->busy_until <= now;
	if (!idle && d->bq.n >= (uint64_t)d->p.queue_pkts) {
		d->c.drop_queue++;
		return;
	}
	if (d->bq.n + d->dl.n >= MAX_INFLIGHT) {
		d->c.drop_other++;
		return;
	}
	struct pkt *p = malloc(sizeof(*p) + len);
	if (!p) {
		d->c.drop_other++;
		return;
	}
	p->t_arr = now;
	p->t_out = 0;
	p->len = (uint32_t)len;
	memcpy(p->data, buf, len);
	fifo_push(&d->bq, p);
	serve(d, now);
	if (d->bq.n > d->c.max_queue)
		d->c.max_queue = d->bq.n;
}

/* -------------------------------------------------------- params parsing */

static bool parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/*
 * Read a params file into p[0] (a2b) and p[1] (b2a). Lines are applied in
 * order: a key without prefix sets both directions, a2b_/b2a_ one of them.
 * On error, returns -1 with a message naming file, line and value in err.
 */
static int load_params(const char *path, struct params p[2], char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	p[0] = default_params;
	p[1] = default_params;
	char line[512];
	int lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected key=value, got '%s'", path, lineno, s);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *key = trim(s);
		char *val = trim(eq + 1);
		int lo = 0, hi = 1;
		if (strncmp(key, "a2b_", 4) == 0) {
			key += 4;
			hi = 0;
		} else if (strncmp(key, "b2a_", 4) == 0) {
			key += 4;
			lo = 1;
		}
		double v;
		if (!parse_double(val, &v)) {
			snprintf(err, errlen, "%s:%d: '%s' is not a number (key %s)", path, lineno, val, key);
			rc = -1;
			break;
		}
		const char *bad = NULL;
		if (strcmp(key, "rtt_ms") == 0) {
			if (lo == hi)
				bad = "rtt_ms sets both directions: use a2b_delay_ms/b2a_delay_ms for one";
			else if (v < 0 || v > 120000)
				bad = "rtt_ms must be in 0..120000";
			else
				for (int i = lo; i <= hi; i++)
					p[i].delay_ms = v / 2;
		} else if (strcmp(key, "delay_ms") == 0) {
			if (v < 0 || v > 60000)
				bad = "delay_ms must be in 0..60000";
			else
				for (int i = lo; i <= hi; i++)
					p[i].delay_ms = v;
		} else if (strcmp(key, "rate_mbit") == 0) {
			if (v < 0 || v > 100000)
				bad = "rate_mbit must be in 0..100000 (0 = unlimited)";
			else
				for (int i = lo; i <= hi; i++)
					p[i].rate_mbit = v;
		} else if (strcmp(key, "queue_pkts") == 0) {
			if (v < 0 || v > 1000000 || v != floor(v))
				bad = "queue_pkts must be an integer in 0..1000000";
			else
				for (int i = lo; i <= hi; i++)
					p[i].queue_pkts = (long)v;
		} else if (strcmp(key, "loss") == 0) {
			if (v < 0 || v > 1)
				bad = "loss must be a probability in 0..1";
			else
				for (int i = lo; i <= hi; i++)
					p[i].loss = v;
		} else if (strcmp(key, "syn_loss") == 0) {
			if (v < 0 || v > 1)
				bad = "syn_loss must be a probability in 0..1";
			else
				for (int i = lo; i <= hi; i++)
					p[i].syn_loss = v;
		} else {
			snprintf(err, errlen,
				 "%s:%d: unknown key '%s' (known: rtt_ms, [a2b_|b2a_]delay_ms, rate_mbit, queue_pkts, loss, syn_loss)",
				 path, lineno, key);
			rc = -1;
			break;
		}
		if (bad) {
			snprintf(err, errlen, "%s:%d: bad value '%s': %s", path, lineno, val, bad);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	fclose(f);
	return rc;
}

/* ------------------------------------------------------------------- TUN */

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...)
{
	va_list ap;
	fputs("pathemu: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* open a network namespace by ip-netns name or by path ("" = none) */
static int open_netns(const char *ns)
{
	char path[PATH_MAX];
	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(1, "network namespace %s (%s): %s", ns, path, strerror(errno));
	return fd;
}

/*
 * Create a non-persistent TUN device `dev` (IFF_TUN|IFF_NO_PI) in namespace
 * `ns` (NULL: the current one). The device disappears when the fd is closed,
 * i.e. also when this process is killed.
 */
static int tun_create(const char *ns, const char *dev)
{
	int orig = -1, nsfd = -1;
	if (ns) {
		orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (orig < 0)
			die(1, "/proc/self/ns/net: %s", strerror(errno));
		nsfd = open_netns(ns);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			die(1, "setns into %s: %s", ns, strerror(errno));
	}
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		die(1, "/dev/net/tun: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die(1, "create TUN device %s in %s: %s", dev, ns ? ns : "current namespace",
		    strerror(errno));
	if (ns) {
		if (setns(orig, CLONE_NEWNET) < 0)
			die(1, "setns back: %s", strerror(errno));
		close(orig);
		close(nsfd);
	}
	return fd;
}

/* ----------------------------------------------------------------- stats */

struct state {
	struct dir d[2];
	const char *params_path;
	const char *stats_path;
	uint64_t seed;
	uint64_t t_start;
	uint64_t seq;
	uint64_t params_gen;
	char params_error[512];
};

static void write_dir_stats(FILE *f, const struct dir *d)
{
	const struct counters *c = &d->c;
	const char *n = d->name;
	fprintf(f, "%s_rx_pkts=%" PRIu64 "\n", n, c->rx_pkts);
	fprintf(f, "%s_rx_bytes=%" PRIu64 "\n", n, c->rx_bytes);
	fprintf(f, "%s_fwd_pkts=%" PRIu64 "\n", n, c->fwd_pkts);
	fprintf(f, "%s_fwd_bytes=%" PRIu64 "\n", n, c->fwd_bytes);
	fprintf(f, "%s_drop_queue=%" PRIu64 "\n", n, c->drop_queue);
	fprintf(f, "%s_drop_loss=%" PRIu64 "\n", n, c->drop_loss);
	fprintf(f, "%s_drop_syn=%" PRIu64 "\n", n, c->drop_syn);
	fprintf(f, "%s_drop_other=%" PRIu64 "\n", n, c->drop_other);
	fprintf(f, "%s_queue_now=%" PRIu64 "\n", n, d->bq.n);
	fprintf(f, "%s_max_queue=%" PRIu64 "\n", n, c->max_queue);
	fprintf(f, "%s_queue_at_change=%" PRIu64 "\n", n, c->queue_at_change);
	fprintf(f, "%s_in_flight=%" PRIu64 "\n", n, d->bq.n + d->dl.n);
	fprintf(f, "%s_late_max_us=%.1f\n", n, (double)c->late_max_ns / 1e3);
	fprintf(f, "%s_late_1ms=%" PRIu64 "\n", n, c->late_1ms);
	fprintf(f, "%s_delay_ms=%g\n", n, d->p.delay_ms);
	fprintf(f, "%s_rate_mbit=%g\n", n, d->p.rate_mbit);
	fprintf(f, "%s_queue_pkts=%ld\n", n, d->p.queue_pkts);
	fprintf(f, "%s_loss=%g\n", n, d->p.loss);
	fprintf(f, "%s_syn_loss=%g\n", n, d->p.syn_loss);
}

static void write_stats(struct state *st)
{
	st->seq++;
	if (!st->stats_path)
		return;
	/* account packets whose service has started, so queue_now is exact */
	uint64_t now = now_ns();
	serve(&st->d[0], now);
	serve(&st->d[1], now);
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->stats_path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "pathemu: stats %s: %s\n", tmp, strerror(errno));
		return;
	}
	uint64_t up = now - st->t_start;
	fprintf(f, "pid=%ld\n", (long)getpid());
	fprintf(f, "seq=%" PRIu64 "\n", st->seq);
	fprintf(f, "uptime_s=%.3f\n", (double)up / 1e9);
	fprintf(f, "seed=%" PRIu64 "\n", st->seed);
	fprintf(f, "params_gen=%" PRIu64 "\n", st->params_gen);
	fprintf(f, "params_ok=%d\n", st->params_error[0] ? 0 : 1);
	fprintf(f, "params_error=%s\n", st->params_error);
	write_dir_stats(f, &st->d[0]);
	write_dir_stats(f, &st->d[1]);
	if (fclose(f) != 0 || rename(tmp, st->stats_path) != 0)
		fprintf(stderr, "pathemu: stats %s: %s\n", st->stats_path, strerror(errno));
}

static void reload(struct state *st)
{
	struct params p[2];
	char err[512];
	st->params_gen++;
	if (load_params(st->params_path, p, err, sizeof(err)) < 0) {
		snprintf(st->params_error, sizeof(st->params_error), "%s", err);
		fprintf(stderr, "pathemu: reload failed, keeping the old parameters: %s\n", err);
	} else {
		st->params_error[0] = '\0';
		uint64_t now = now_ns();
		for (int i = 0; i < 2; i++) {
			/* packets whose service started keep their times; the rest get the new rate */
			serve(&st->d[i], now);
			st->d[i].c.queue_at_change = st->d[i].bq.n;
			dir_apply_params(&st->d[i], &p[i]);
		}
		fprintf(stderr,
			"pathemu: params gen %" PRIu64 ": a2b delay %g ms rate %g Mbit/s queue %ld loss %g syn_loss %g;"
			" b2a delay %g ms rate %g Mbit/s queue %ld loss %g syn_loss %g\n",
			st->params_gen, p[0].delay_ms, p[0].rate_mbit, p[0].queue_pkts, p[0].loss,
			p[0].syn_loss, p[1].delay_ms, p[1].rate_mbit, p[1].queue_pkts, p[1].loss,
			p[1].syn_loss);
	}
	write_stats(st);
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fputs(
"Usage: pathemu --dev-a DEV --dev-b DEV --params FILE [options]\n"
"\n"
"Link emulator: creates TUN device DEV-A in namespace NS-A and DEV-B in NS-B\n"
"and forwards IP packets (IPv4 and IPv6) between them. Direction a2b carries\n"
"what NS-A sends to DEV-A out of DEV-B into NS-B; b2a the reverse. Per\n"
"direction: SYN loss, random loss, a drop-tail queue, a rate bottleneck and a\n"
"propagation delay (in that order). Packets are never reordered.\n"
"\n"
"Options:\n"
"  --ns-a NS         namespace of DEV-A: an `ip netns` name or a path such as\n"
"                    /proc/PID/ns/net (default: the current namespace)\n"
"  --dev-a DEV       TUN device to create in NS-A (required)\n"
"  --ns-b NS         namespace of DEV-B (default: the current namespace)\n"
"  --dev-b DEV       TUN device to create in NS-B (required)\n"
"  --params FILE     parameter file (required), re-read on SIGHUP\n"
"  --seed N          seed of the loss PRNG (default 1); same seed and same\n"
"                    packets give the same drops\n"
"  --stats FILE      write counters here at start, on SIGHUP/SIGUSR1, at exit\n"
"  --pidfile FILE    write the pid here once both devices exist (readiness)\n"
"  -h, --help        this text\n"
"  --version         print the version\n"
"\n"
"Parameter file: key=value lines, '#' comments. A key sets both directions;\n"
"with prefix a2b_ or b2a_ it sets one. Later lines override earlier ones.\n"
"  delay_ms=F     one-way propagation delay in ms, fractional ok (default 0)\n"
"  rtt_ms=F       same as delay_ms=F/2 (no prefix: both directions)\n"
"  rate_mbit=F    bottleneck rate in Mbit/s; 0 = unlimited (default 0)\n"
"  queue_pkts=N   packets that may wait for the bottleneck (default 1000)\n"
"  loss=P         random loss probability 0..1 (default 0)\n"
"  syn_loss=P     loss probability of TCP segments with SYN set (SYN and\n"
"                 SYN-ACK) 0..1 (default 0)\n"
"\n"
"The devices are created down and without addresses: configure them with ip(8).\n"
"They are not persistent and vanish when pathemu exits or is killed.\n"
"\n"
"Signals: SIGHUP re-reads the parameter file (a bad file keeps the old values\n"
"and sets params_ok=0 in the stats); SIGUSR1 writes the stats file;\n"
"SIGTERM/SIGINT write the stats file, remove the pidfile and exit 0.\n"
"\n"
"Stats file: key=value lines: pid, seq (bumped on every write), uptime_s,\n"
"seed, params_gen (bumped on every SIGHUP), params_ok, params_error, and per\n"
"direction (a2b_, b2a_): rx_pkts rx_bytes fwd_pkts fwd_bytes drop_queue\n"
"drop_loss drop_syn drop_other queue_now max_queue queue_at_change in_flight\n"
"late_max_us (how late the latest packet left, wake-up latency) late_1ms\n"
"(packets that left more than 1 ms late) and the current parameters.\n"
"\n"
"Exit status: 0 on SIGTERM/SIGINT, 1 on a runtime error, 2 on bad usage.\n",
	      f);
}

enum { OPT_NS_A = 256, OPT_DEV_A, OPT_NS_B, OPT_DEV_B, OPT_PARAMS, OPT_SEED, OPT_STATS,
       OPT_PIDFILE, OPT_VERSION };

static void check_dev(const char *opt, const char *dev)
{
	if (!dev)
		die(2, "missing %s (see --help)", opt);
	if (dev[0] == '\0' || strlen(dev) >= IFNAMSIZ || strchr(dev, '/') || strchr(dev, ' '))
		die(2, "%s '%s': not a valid device name (1..%d characters, no '/' or space)", opt,
		    dev, IFNAMSIZ - 1);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ns-a", required_argument, NULL, OPT_NS_A },
		{ "dev-a", required_argument, NULL, OPT_DEV_A },
		{ "ns-b", required_argument, NULL, OPT_NS_B },
		{ "dev-b", required_argument, NULL, OPT_DEV_B },
		{ "params", required_argument, NULL, OPT_PARAMS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *ns_a = NULL, *ns_b = NULL, *dev_a = NULL, *dev_b = NULL;
	const char *pidfile = NULL;
	static struct state st;
	st.seed = 1;

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NS_A: ns_a = optarg; break;
		case OPT_DEV_A: dev_a = optarg; break;
		case OPT_NS_B: ns_b = optarg; break;
		case OPT_DEV_B: dev_b = optarg; break;
		case OPT_PARAMS: st.params_path = optarg; break;
		case OPT_STATS: st.stats_path = optarg; break;
		case OPT_PIDFILE: pidfile = optarg; break;
		case OPT_SEED: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 0);
			if (end == optarg || *end || errno || optarg[0] == '-')
				die(2, "--seed '%s': not a non-negative integer", optarg);
			st.seed = v;
			break;
		}
		case 'h': usage(stdout); return 0;
		case OPT_VERSION: printf("pathemu %s\n", PATHEMU_VERSION); return 0;
		case ':': die(2, "option %s needs an argument (see --help)", argv[optind - 1]);
		default: die(2, "unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die(2, "unexpected argument '%s' (see --help)", argv[optind]);
	check_dev("--dev-a", dev_a);
	check_dev("--dev-b", dev_b);
	if (!st.params_path)
		die(2, "missing --params FILE (see --help)");
	if ((ns_a && !*ns_a) || (ns_b && !*ns_b))
		die(2, "empty namespace name");
	bool same_ns = (!ns_a && !ns_b) || (ns_a && ns_b && strcmp(ns_a, ns_b) == 0);
	if (same_ns && strcmp(dev_a, dev_b) == 0)
		die(2, "--dev-a and --dev-b are the same device '%s' in the same namespace", dev_a);

	struct params p[2];
	char err[512];
	if (load_params(st.params_path, p, err, sizeof(err)) < 0)
		die(2, "%s", err);

	/*
	 * Block the signals we handle; they are read from a signalfd. Reset them
	 * to the default first: a background job of a non-interactive shell
	 * starts with SIGINT ignored, and an ignored signal never reaches the
	 * signalfd.
	 */
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		die(1, "sigprocmask: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die(1, "signalfd: %s", strerror(errno));

	/*
	 * Precise wake-ups: an absolute CLOCK_MONOTONIC timerfd (no slack, unlike
	 * a ppoll timeout, which gets 0.1% of the timeout as slack), and timer
	 * slack 1 ns for the rest.
	 */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0)
		die(1, "timerfd_create: %s", strerror(errno));
	uint64_t armed = T_NEVER;

	int fd_a = tun_create(ns_a, dev_a);
	int fd_b = tun_create(ns_b, dev_b);

	st.t_start = now_ns();
	st.d[0] = (struct dir){ .name = "a2b", .in_fd = fd_a, .out_fd = fd_b };
	st.d[1] = (struct dir){ .name = "b2a", .in_fd = fd_b, .out_fd = fd_a };
	for (int i = 0; i < 2; i++) {
		dir_apply_params(&st.d[i], &p[i]);
		rng_seed(&st.d[i].rng, st.seed * 2 + (uint64_t)i);
	}
	fprintf(stderr,
		"pathemu: %s/%s <-> %s/%s seed %" PRIu64 "; a2b delay %g ms rate %g Mbit/s queue %ld loss %g"
		" syn_loss %g; b2a delay %g ms rate %g Mbit/s queue %ld loss %g syn_loss %g\n",
		ns_a ? ns_a : "-", dev_a, ns_b ? ns_b : "-", dev_b, st.seed, p[0].delay_ms,
		p[0].rate_mbit, p[0].queue_pkts, p[0].loss, p[0].syn_loss, p[1].delay_ms,
		p[1].rate_mbit, p[1].queue_pkts, p[1].loss, p[1].syn_loss);
	write_stats(&st);

	if (pidfile) {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s.tmp", pidfile);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
		    rename(tmp, pidfile) != 0)
			die(1, "pidfile %s: %s", pidfile, strerror(errno));
	}

	static unsigned char buf[READ_BUF];
	struct pollfd pfd[4] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = fd_a, .events = POLLIN },
		{ .fd = fd_b, .events = POLLIN },
		{ .fd = tfd, .events = POLLIN },
	};
	int status = 0;
	bool running = true;
	while (running) {
		uint64_t now = now_ns();
		uint64_t next = T_NEVER;
		for (int i = 0; i < 2; i++) {
			deliver(&st.d[i], now);
			uint64_t t = next_event(&st.d[i]);
			if (t < next)
				next = t;
		}
		if (next != armed) {
			struct itimerspec its = { 0 };
			if (next != T_NEVER) {
				its.it_value.tv_sec = (time_t)(next / NSEC_PER_SEC);
				its.it_value.tv_nsec = (long)(next % NSEC_PER_SEC);
			}
			if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
				fprintf(stderr, "pathemu: timerfd_settime: %s\n", strerror(errno));
				status = 1;
				break;
			}
			armed = next;
		}
		int n = ppoll(pfd, 4, NULL, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pathemu: ppoll: %s\n", strerror(errno));
			status = 1;
			break;
		}
		if (n == 0)
			continue;
		if (pfd[3].revents & POLLIN) {
			uint64_t expirations;
			if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				fprintf(stderr, "pathemu: timerfd read: %s\n", strerror(errno));
			armed = T_NEVER; /* expired: re-arm on the next turn */
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[1 + i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
				fprintf(stderr, "pathemu: device %s failed\n", i ? dev_b : dev_a);
				status = 1;
				running = false;
			}
			if (!(pfd[1 + i].revents & POLLIN))
				continue;
			struct dir *d = &st.d[i];
			for (int k = 0; k < READ_BURST; k++) {
				ssize_t r = read(d->in_fd, buf, sizeof(buf));
				if (r < 0) {
					if (errno != EAGAIN && errno != EINTR) {
						fprintf(stderr, "pathemu: read %s: %s\n",
							i ? dev_b : dev_a, strerror(errno));
						status = 1;
						running = false;
					}
					break;
				}
				if (r == 0)
					break;
				arrive(d, buf, (size_t)r, now_ns());
			}
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGHUP: reload(&st); break;
				case SIGUSR1: write_stats(&st); break;
				case SIGTERM:
				case SIGINT: running = false; break;
				}
			}
		}
	}

	write_stats(&st);
	if (pidfile) {
		/* remove the pidfile only if it is still ours */
		FILE *f = fopen(pidfile, "r");
		long pid = 0;
		if (f) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid == (long)getpid())
			unlink(pidfile);
	}
	for (int i = 0; i < 2; i++) {
		fifo_free(&st.d[i].bq);
		fifo_free(&st.d[i].dl);
	}
	close(fd_a);
	close(fd_b);
	close(sfd);
	close(tfd);
	return status;
}
