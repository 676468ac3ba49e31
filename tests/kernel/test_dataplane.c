// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Data-plane acceptance against the real kernel: the BPF program, loaded and
 * attached by learnd's own loader, applies per-prefix IW, SYN RTO and RWND to
 * real TCP connections and reports each one at close.
 *
 * Layout: the parent creates a cgroup and a pin directory of its own, forks a
 * child that joins the cgroup and a fresh network namespace (loopback carries
 * several addresses, one per "remote prefix"), and removes cgroup and pins
 * after the child exits, whatever happened to it.  Every socket of the child is
 * in the cgroup, so a loopback connection is seen from both ends: the server's
 * passive side (remote = the client's address) and the client's active side
 * (remote = the server's address).
 *
 * Addresses (all on lo, MTU 1500):
 *   10.200.0.1  fd00:200::1     server, in no prefix
 *   10.201.1.5  fd00:201:1::5   client in prefix A: 10.201.1.0/24, fd00:201:1::/48
 *   10.202.0.5  fd00:202::5     client in no prefix
 *   10.203.0.1  fd00:203::1     server in prefix B (for active-side checks)
 *
 * Exit status: 0 all passed, 1 a check failed, 77 skipped (not root).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* glibc's tcp_info lacks tcpi_snd_wnd */
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "learnd_abi.h"
#include "loader.h"
#include "log.h"
#include "record.h"

static int failures;

#define CHECK(cond, ...)                                                                      \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			failures++;                                                           \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #cond);       \
			fprintf(stderr, __VA_ARGS__);                                         \
			fputc('\n', stderr);                                                  \
		}                                                                             \
	} while (0)

#define DIE(...)                                                                              \
	do {                                                                                  \
		fprintf(stderr, "FATAL %s:%d: ", __func__, __LINE__);                         \
		fprintf(stderr, __VA_ARGS__);                                                 \
		fputc('\n', stderr);                                                          \
		exit(1);                                                                      \
	} while (0)

#define PORT_IW 7001
#define PORT_RTO 7002
#define PORT_RWND 7003
#define PORT_REC 7004
#define PORT_SLOTS 7005
#define PORT_HB 7006
#define PORT_DEAD 7009

static const char *SRV4 = "10.200.0.1", *SRV6 = "fd00:200::1";
static const char *CLA4 = "10.201.1.5", *CLA6 = "fd00:201:1::5";
static const char *CLN4 = "10.202.0.5", *CLN6 = "fd00:202::5";
static const char *SRVB4 = "10.203.0.1", *SRVB6 = "fd00:203::1";

#define PREFIX_A 1
#define PREFIX_B 2

/* ---- the data plane under test ---- */

static struct ld_dataplane dp;
static struct ring_buffer *rb;
static struct learnd_record recs[4096];
static int nrec;
static unsigned hz;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (nrec < (int)(sizeof(recs) / sizeof(recs[0])) && ld_record_decode(data, size, &recs[nrec]) == 0)
		nrec++;
	return 0;
}

/* Collect records until at least want have arrived or timeout_ms passed. */
static void drain(int want, int timeout_ms)
{
	/* the program wakes readers only when the ring is a quarter full: consume */
	for (int waited = 0; nrec < want && waited < timeout_ms; waited += 20) {
		ring_buffer__poll(rb, 20);
		ring_buffer__consume(rb);
	}
	ring_buffer__consume(rb);
}

static void reset_records(void)
{
	drain(1 << 30, 200); /* close records of the previous case still in flight */
	nrec = 0;
}

static void set_ctl(uint64_t heartbeat_ns, uint32_t flags, uint32_t sample_rate)
{
	struct learnd_ctl ctl = {
		.heartbeat_ns = heartbeat_ns,
		.ttl_ns = 5ull * 1000000000,
		.flags = flags,
		.sample_rate = sample_rate,
	};

	if (ld_ctl_write(ld_dp_ctl_fd(&dp), &ctl))
		DIE("cannot write the control map");
}

static void fresh_ctl(void)
{
	set_ctl(ld_now_ns(), 0, 1);
}

static struct learnd_arm arm(uint32_t share, uint16_t iw, uint16_t rwnd, uint16_t syn_rto_ms)
{
	return (struct learnd_arm){ .share = share, .iw = iw, .rwnd = rwnd, .syn_rto_ms = syn_rto_ms };
}

static void put_policy(const char *cidr, uint32_t id, uint32_t epoch, int nslots, const struct learnd_arm *arms)
{
	struct learnd_policy p = { .prefix_id = id, .epoch = epoch, .nslots = (uint32_t)nslots };
	struct learnd_key key;
	char err[128];

	if (ld_cidr_parse(cidr, &key, err, sizeof(err)))
		DIE("%s: %s", cidr, err);
	for (int i = 0; i < nslots; i++)
		p.slots[i] = arms[i];
	if (bpf_map_update_elem(ld_dp_policy_fd(&dp), &key, &p, BPF_ANY))
		DIE("policy %s: %s", cidr, strerror(errno));
}

/* Prefix A (the client side) and B (a server) for IPv4 and IPv6, one slot each. */
static void put_single(uint16_t iw, uint16_t rwnd, uint16_t syn_rto_ms)
{
	struct learnd_arm a = arm(LEARND_SHARE_ONE, iw, rwnd, syn_rto_ms);

	put_policy("10.201.1.0/24", PREFIX_A, 1, 1, &a);
	put_policy("fd00:201:1::/48", PREFIX_A, 1, 1, &a);
	put_policy("10.203.0.0/24", PREFIX_B, 1, 1, &a);
	put_policy("fd00:203::/48", PREFIX_B, 1, 1, &a);
}

/* ---- sockets ---- */

static socklen_t sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss)
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
	DIE("bad address %s", addr);
}

static int tcp_socket(const char *bind_addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(bind_addr, port, &ss);
	int one = 1, fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		DIE("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len))
		DIE("bind %s:%d: %s", bind_addr, port, strerror(errno));
	return fd;
}

static int tcp_listen(const char *addr, int port)
{
	int fd = tcp_socket(addr, port);

	if (listen(fd, 512))
		DIE("listen: %s", strerror(errno));
	return fd;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Blocking connect from src to dst:port; connect time in ms into *ms.  Returns
 * the socket, or -errno. */
static int tcp_connect(const char *src, const char *dst, int port, double *ms)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(dst, port, &ss);
	int fd = tcp_socket(src, 0);
	double t0 = now_ms();

	if (connect(fd, (struct sockaddr *)&ss, len)) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (ms)
		*ms = now_ms() - t0;
	return fd;
}

static int accept_one(int lfd)
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

static struct tcp_info tinfo(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		DIE("TCP_INFO: %s", strerror(errno));
	return ti;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &len);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void write_all(int fd, size_t n)
{
	static char buf[65536];

	while (n) {
		ssize_t w = write(fd, buf, n < sizeof(buf) ? n : sizeof(buf));

		if (w <= 0)
			DIE("write: %s", strerror(errno));
		n -= (size_t)w;
	}
}

static size_t read_to_eof(int fd)
{
	static char buf[65536];
	size_t total = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)r;
	return total;
}

/* Request/response over an established pair, small enough never to block in one
 * thread: the client sends req bytes and half-closes, the server reads them,
 * answers resp bytes and closes, the client reads to EOF and closes. */
static void exchange(int cfd, int sfd, size_t req, size_t resp)
{
	size_t got;

	write_all(cfd, req);
	shutdown(cfd, SHUT_WR);
	got = read_to_eof(sfd);
	CHECK(got == req, "server read %zu of %zu", got, req);
	write_all(sfd, resp);
	close(sfd);
	got = read_to_eof(cfd);
	CHECK(got == resp, "client read %zu of %zu", got, resp);
	close(cfd);
}

/* ---- nftables: drop the first SYN (or SYN-ACK) of each connection to a port ---- */

static void nft(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		DIE("command failed: %s", cmd);
}

static void nft_setup(void)
{
	nft("nft -f - <<'EOF'\n"
	    "table inet learnd_test {\n"
	    "  set syn_seen { type inet_service; flags dynamic,timeout; timeout 30s; }\n"
	    "  set synack_seen { type inet_service; flags dynamic,timeout; timeout 30s; }\n"
	    "  chain out {\n"
	    "    type filter hook output priority 0; policy accept;\n"
	    /* first SYN to PORT_RTO from each source port */
	    "    tcp dport %d tcp flags & (syn | ack) == syn tcp sport != @syn_seen add @syn_seen { tcp sport } drop\n"
	    /* first SYN-ACK from PORT_RTO+100 to each client port */
	    "    tcp sport %d tcp flags & (syn | ack) == syn | ack tcp dport != @synack_seen add @synack_seen { tcp dport } drop\n"
	    /* every SYN to PORT_DEAD: a handshake that never completes */
	    "    tcp dport %d drop\n"
	    "  }\n"
	    "}\n"
	    "EOF",
	    PORT_RTO, PORT_RTO + 100, PORT_DEAD);
}

/* ---- cases ---- */

/* Acceptance 1 and 7: cwnd right after accept/connect, before any data. */
static void case_iw(bool v6)
{
	const char *srv = v6 ? SRV6 : SRV4, *cla = v6 ? CLA6 : CLA4, *cln = v6 ? CLN6 : CLN4;
	const char *srvb = v6 ? SRVB6 : SRVB4;
	int lfd, lfdb, cfd, sfd;
	struct tcp_info ti;

	reset_records();
	fresh_ctl();
	put_single(37, 0, 0);
	lfd = tcp_listen(srv, PORT_IW);
	lfdb = tcp_listen(srvb, PORT_IW);

	/* passive, client in prefix A: the server's accepted socket gets IW 37 */
	cfd = tcp_connect(cla, srv, PORT_IW, NULL);
	sfd = accept_one(lfd);
	ti = tinfo(sfd);
	CHECK(ti.tcpi_snd_cwnd == 37, "%s passive in prefix: cwnd %u, want 37", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	ti = tinfo(cfd); /* the client's active side: server in no prefix */
	CHECK(ti.tcpi_snd_cwnd == 10, "%s active to no prefix: cwnd %u, want 10", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	exchange(cfd, sfd, 1000, 1000);

	/* passive, client outside every prefix: kernel default */
	cfd = tcp_connect(cln, srv, PORT_IW, NULL);
	sfd = accept_one(lfd);
	ti = tinfo(sfd);
	CHECK(ti.tcpi_snd_cwnd == 10, "%s passive no prefix: cwnd %u, want 10", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	exchange(cfd, sfd, 1000, 1000);

	/* active, server in prefix B: the client's socket gets IW 37 */
	cfd = tcp_connect(cln, srvb, PORT_IW, NULL);
	sfd = accept_one(lfdb);
	ti = tinfo(cfd);
	CHECK(ti.tcpi_snd_cwnd == 37, "%s active in prefix: cwnd %u, want 37", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	ti = tinfo(sfd);
	CHECK(ti.tcpi_snd_cwnd == 10, "%s passive from no prefix: cwnd %u", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	exchange(cfd, sfd, 1000, 1000);

	close(lfd);
	close(lfdb);
}

static struct learnd_record *find_record(bool active, int lport, int rport)
{
	for (int i = 0; i < nrec; i++) {
		bool a = recs[i].flags & LEARND_REC_ACTIVE;

		if (a == active && (lport < 0 || recs[i].lport == lport) && (rport < 0 || recs[i].rport == rport))
			return &recs[i];
	}
	return NULL;
}

/* Acceptance 2: with the first SYN (active) or SYN-ACK (passive) dropped, the
 * connect time is the configured SYN RTO, within two jiffies; ~1 s without. */
static void case_syn_rto(bool v6)
{
	const char *srv = v6 ? SRV6 : SRV4, *cla = v6 ? CLA6 : CLA4, *cln = v6 ? CLN6 : CLN4;
	const char *srvb = v6 ? SRVB6 : SRVB4;
	double jiffy = 1000.0 / hz, ms, rtt_slack = 2; /* loopback RTT is far below 1 ms */
	int lfd, lfdb, lfdp, cfd, sfd, port;
	struct learnd_record *r;

	reset_records();
	fresh_ctl();
	put_single(0, 0, 200);
	lfd = tcp_listen(srv, PORT_RTO);
	lfdb = tcp_listen(srvb, PORT_RTO);
	lfdp = tcp_listen(srv, PORT_RTO + 100);

	/* active: server in prefix B, the client's SYN retransmits after 200 ms */
	cfd = tcp_connect(cln, srvb, PORT_RTO, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	port = local_port(cfd);
	CHECK(fabs(ms - 200) <= 2 * jiffy + rtt_slack, "%s active SYN RTO 200: connect took %.1f ms", v6 ? "v6" : "v4", ms);
	printf("  %s first SYN dropped, syn_rto_ms 200: connect %.1f ms\n", v6 ? "v6" : "v4", ms);
	sfd = accept_one(lfdb);
	exchange(cfd, sfd, 100, 100);
	drain(2, 2000);
	r = find_record(true, port, -1);
	CHECK(r, "no record for the active connection");
	if (r) {
		/* the handshake time in the record is the same 200 ms, and it saw the retransmit */
		CHECK(fabs(r->handshake_us / 1e3 - 200) <= 2 * jiffy + rtt_slack, "record handshake %u us", r->handshake_us);
		CHECK(r->syn_retrans == 1, "record syn_retrans %u, want 1", r->syn_retrans);
		CHECK(r->syn_rto_ms == 200 && r->prefix_id == PREFIX_B, "record rto %u prefix %u", r->syn_rto_ms, r->prefix_id);
	}

	/* active, server in no prefix: the kernel's 1 s */
	cfd = tcp_connect(cla, srv, PORT_RTO, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	CHECK(ms >= 1000 - 2 * jiffy && ms <= 1000 + 10 * jiffy, "%s default SYN RTO: connect took %.1f ms", v6 ? "v6" : "v4", ms);
	printf("  %s first SYN dropped, no prefix: connect %.1f ms\n", v6 ? "v6" : "v4", ms);
	sfd = accept_one(lfd);
	exchange(cfd, sfd, 100, 100);

	/* passive: the first SYN-ACK to a client in prefix A is dropped; the server
	 * retransmits it after 200 ms, well before the client's own 1 s SYN timer */
	cfd = tcp_connect(cla, srv, PORT_RTO + 100, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	CHECK(fabs(ms - 200) <= 2 * jiffy + rtt_slack, "%s passive SYN-ACK RTO 200: connect took %.1f ms", v6 ? "v6" : "v4", ms);
	printf("  %s first SYN-ACK dropped, syn_rto_ms 200: connect %.1f ms\n", v6 ? "v6" : "v4", ms);
	sfd = accept_one(lfdp);
	exchange(cfd, sfd, 100, 100);

	/* passive, client in no prefix: the client's SYN retransmit (1 s) rescues it */
	cfd = tcp_connect(cln, srv, PORT_RTO + 100, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	CHECK(ms >= 1000 - 2 * jiffy && ms <= 1000 + 10 * jiffy, "%s passive default: connect took %.1f ms", v6 ? "v6" : "v4", ms);
	sfd = accept_one(lfdp);
	exchange(cfd, sfd, 100, 100);

	close(lfd);
	close(lfdb);
	close(lfdp);
}

/* Acceptance 3: the window in the SYN-ACK (passive) or SYN (active) follows
 * rwnd, seen through the peer's TCP_INFO before any data flows.  The window in
 * a SYN or SYN-ACK is never scaled, and RWND_INIT counts segments of the MSS
 * less the timestamp option. */
static void case_rwnd(bool v6)
{
	const char *srv = v6 ? SRV6 : SRV4, *cla = v6 ? CLA6 : CLA4, *cln = v6 ? CLN6 : CLN4;
	const char *srvb = v6 ? SRVB6 : SRVB4;
	int lfd, lfdb, cfd, sfd;
	struct tcp_info ti;
	uint32_t want, dflt;

	reset_records();
	fresh_ctl();
	put_single(0, 20, 0);
	lfd = tcp_listen(srv, PORT_RWND);
	lfdb = tcp_listen(srvb, PORT_RWND);

	/* passive: the server's SYN-ACK to a client in prefix A */
	cfd = tcp_connect(cla, srv, PORT_RWND, NULL);
	sfd = accept_one(lfd);
	ti = tinfo(cfd);
	want = 20 * ti.tcpi_snd_mss;
	CHECK(ti.tcpi_snd_wnd == want, "%s SYN-ACK window %u, want %u (20 x %u)", v6 ? "v6" : "v4", ti.tcpi_snd_wnd,
	      want, ti.tcpi_snd_mss);
	exchange(cfd, sfd, 100, 100);

	/* passive, client in no prefix: the kernel's default, much larger */
	cfd = tcp_connect(cln, srv, PORT_RWND, NULL);
	sfd = accept_one(lfd);
	dflt = tinfo(cfd).tcpi_snd_wnd;
	CHECK(dflt > 2 * want, "%s default SYN-ACK window %u not above 2 x %u", v6 ? "v6" : "v4", dflt, want);
	exchange(cfd, sfd, 100, 100);

	/* active: the client's SYN to a server in prefix B; the server learns the
	 * client's window from its ACK, rounded up to the window scale unit */
	cfd = tcp_connect(cln, srvb, PORT_RWND, NULL);
	sfd = accept_one(lfdb);
	ti = tinfo(sfd);
	/* a SYN's window is sized before timestamps are agreed: full MSS */
	want = 20 * (ti.tcpi_snd_mss + (ti.tcpi_options & TCPI_OPT_TIMESTAMPS ? 12 : 0));
	CHECK(ti.tcpi_snd_wnd >= want && ti.tcpi_snd_wnd < want + (1u << ti.tcpi_snd_wscale),
	      "%s active window %u, want %u (wscale %u)", v6 ? "v6" : "v4", ti.tcpi_snd_wnd, want, ti.tcpi_snd_wscale);
	exchange(cfd, sfd, 100, 100);

	close(lfd);
	close(lfdb);
}

/* Acceptance 4 and 7: N connections, N close records per side with the right
 * prefix, slot, direction, byte counts and handshake; a SYN never answered
 * gives a record marked not established. */
static void case_records(bool v6)
{
	const char *srv = v6 ? SRV6 : SRV4, *cla = v6 ? CLA6 : CLA4;
	enum { N = 20 };
	int lfd, cfd, sfd, cports[N];
	size_t req[N], resp[N];
	int passive = 0, active = 0;

	reset_records();
	fresh_ctl();
	put_single(20, 0, 0);
	lfd = tcp_listen(srv, PORT_REC);
	for (int i = 0; i < N; i++) {
		req[i] = 100 + 37 * (size_t)i;
		resp[i] = 1000 + 311 * (size_t)i;
		cfd = tcp_connect(cla, srv, PORT_REC, NULL);
		CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
		cports[i] = local_port(cfd);
		sfd = accept_one(lfd);
		exchange(cfd, sfd, req[i], resp[i]);
	}
	close(lfd);
	drain(2 * N, 3000);
	CHECK(nrec == 2 * N, "%s: %d records for %d connections (both ends)", v6 ? "v6" : "v4", nrec, N);

	for (int i = 0; i < nrec; i++) {
		struct learnd_record *r = &recs[i];
		bool is_v6 = r->flags & LEARND_REC_IPV6;
		int k;

		for (k = 0; k < N; k++)
			if (r->flags & LEARND_REC_ACTIVE ? r->lport == cports[k] : r->rport == cports[k])
				break;
		CHECK(k < N, "record with ports %u/%u matches no connection", r->lport, r->rport);
		if (k == N)
			continue;
		CHECK(is_v6 == v6, "IPV6 flag %d", is_v6);
		CHECK(r->flags & LEARND_REC_ESTABLISHED, "not marked established");
		CHECK(r->handshake_us > 0 && r->handshake_us < 100000, "handshake %u us on loopback", r->handshake_us);
		if (r->flags & LEARND_REC_ACTIVE) { /* client: remote is the server, in no prefix */
			active++;
			CHECK(r->prefix_id == 0 && !(r->flags & LEARND_REC_APPLIED), "active prefix %u", r->prefix_id);
			CHECK(r->rport == PORT_REC, "active rport %u", r->rport);
			CHECK(r->bytes_acked == req[k], "active bytes_acked %llu, sent %zu", (unsigned long long)r->bytes_acked,
			      req[k]);
			CHECK(r->bytes_received == resp[k], "active bytes_received %llu, got %zu",
			      (unsigned long long)r->bytes_received, resp[k]);
		} else { /* server: remote is the client, in prefix A */
			passive++;
			CHECK(r->prefix_id == PREFIX_A && r->slot == 0 && r->iw == 20, "passive prefix %u slot %u iw %u",
			      r->prefix_id, r->slot, r->iw);
			CHECK(r->flags & LEARND_REC_APPLIED, "passive not marked applied");
			CHECK(r->lport == PORT_REC, "passive lport %u", r->lport);
			CHECK(r->bytes_acked == resp[k], "passive bytes_acked %llu, sent %zu",
			      (unsigned long long)r->bytes_acked, resp[k]);
			CHECK(r->bytes_received == req[k], "passive bytes_received %llu, got %zu",
			      (unsigned long long)r->bytes_received, req[k]);
			CHECK(r->data_segs_in >= 1 && r->data_segs_out >= 1, "segs in %u out %u", r->data_segs_in,
			      r->data_segs_out);
		}
	}
	CHECK(active == N && passive == N, "%d active, %d passive records, want %d each", active, passive, N);

	/* a SYN that is never answered: the client gives up; one record, not established */
	reset_records();
	{
		struct sockaddr_storage ss;
		socklen_t len = sockaddr_of(srv, PORT_DEAD, &ss);
		int fd = tcp_socket(cla, 0), port;
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		fcntl(fd, F_SETFL, O_NONBLOCK);
		CHECK(connect(fd, (struct sockaddr *)&ss, len) < 0 && errno == EINPROGRESS, "dead connect: %s",
		      strerror(errno));
		port = local_port(fd);
		CHECK(poll(&p, 1, 300) == 0, "a dropped SYN was answered");
		close(fd);
		drain(1, 2000);
		struct learnd_record *r = find_record(true, port, PORT_DEAD);

		CHECK(r, "%s: no record for a connection that never established", v6 ? "v6" : "v4");
		if (r)
			CHECK(!(r->flags & LEARND_REC_ESTABLISHED) && r->bytes_acked == 0 && r->handshake_us == 0,
			      "dead record flags %#x acked %llu", r->flags, (unsigned long long)r->bytes_acked);
	}
}

/* Acceptance 5: two slots at 50/50 with IW 16 and 32.  The split is within
 * binomial bounds, and each record's slot is the IW its connection had. */
static void case_slots(bool active)
{
	enum { N = 400 };
	struct learnd_arm arms[2] = { arm(LEARND_SHARE_ONE / 2, 16, 0, 0), arm(LEARND_SHARE_ONE / 2, 32, 0, 0) };
	int lfd, cfd, sfd, ports[N], cwnd[N], count[2] = { 0, 0 }, matched = 0;
	const char *srv = active ? SRVB4 : SRV4, *cli = active ? CLN4 : CLA4;

	reset_records();
	fresh_ctl();
	put_policy(active ? "10.203.0.0/24" : "10.201.1.0/24", active ? PREFIX_B : PREFIX_A, 7, 2, arms);
	lfd = tcp_listen(srv, PORT_SLOTS);
	for (int i = 0; i < N; i++) {
		cfd = tcp_connect(cli, srv, PORT_SLOTS, NULL);
		CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
		sfd = accept_one(lfd);
		ports[i] = local_port(cfd);
		cwnd[i] = (int)tinfo(active ? cfd : sfd).tcpi_snd_cwnd;
		exchange(cfd, sfd, 10, 10);
		if (i % 64 == 63)
			ring_buffer__consume(rb); /* keep the ring buffer from filling */
	}
	close(lfd);
	drain(2 * N, 3000);
	for (int i = 0; i < nrec; i++) {
		struct learnd_record *r = &recs[i];
		int k;

		if (!(r->flags & LEARND_REC_ACTIVE) == active || r->prefix_id == 0)
			continue;
		for (k = 0; k < N; k++)
			if ((active ? r->lport : r->rport) == ports[k])
				break;
		if (k == N || r->slot > 1)
			continue;
		count[r->slot]++;
		matched++;
		CHECK(r->epoch == 7, "epoch %u", r->epoch);
		CHECK(cwnd[k] == arms[r->slot].iw, "slot %u (iw %u) but the connection had cwnd %d", r->slot,
		      arms[r->slot].iw, cwnd[k]);
	}
	/* Binomial(400, 0.5): sd 10; 4 sd either side fails a correct program
	 * with probability 6e-5. */
	CHECK(matched == N, "%s: %d of %d connections have a record", active ? "active" : "passive", matched, N);
	CHECK(abs(count[0] - N / 2) <= 40, "%s split %d/%d", active ? "active" : "passive", count[0], count[1]);
	printf("  slots %s: %d/%d\n", active ? "active" : "passive", count[0], count[1]);
}

/* Acceptance 6: a stale heartbeat, pause and observe-only give kernel defaults;
 * records still flow. */
static void case_heartbeat(void)
{
	static const struct {
		const char *name;
		int64_t age_s;
		uint32_t flags;
	} modes[] = {
		{ "fresh", 0, 0 },
		{ "stale", 6, 0 }, /* TTL is 5 s */
		{ "observe-only", 0, LEARND_CTL_OBSERVE_ONLY },
		{ "paused", 0, LEARND_CTL_PAUSED },
	};
	int lfd = tcp_listen(SRV4, PORT_HB);

	put_single(37, 20, 200);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		bool dflt = m > 0;
		int cfd, sfd, port;
		struct tcp_info ti;
		struct learnd_record *r;

		reset_records();
		set_ctl(ld_now_ns() - (uint64_t)modes[m].age_s * 1000000000, modes[m].flags, 1);
		cfd = tcp_connect(CLA4, SRV4, PORT_HB, NULL);
		sfd = accept_one(lfd);
		port = local_port(cfd);
		ti = tinfo(sfd);
		CHECK(ti.tcpi_snd_cwnd == (dflt ? 10u : 37u), "%s: cwnd %u", modes[m].name, ti.tcpi_snd_cwnd);
		ti = tinfo(cfd);
		CHECK(dflt ? ti.tcpi_snd_wnd > 40 * ti.tcpi_snd_mss : ti.tcpi_snd_wnd == 20 * ti.tcpi_snd_mss,
		      "%s: SYN-ACK window %u", modes[m].name, ti.tcpi_snd_wnd);
		exchange(cfd, sfd, 500, 500);
		drain(2, 2000);
		r = find_record(false, PORT_HB, port);
		CHECK(r, "%s: no record", modes[m].name);
		if (r)
			CHECK(!(r->flags & LEARND_REC_APPLIED) == dflt && r->prefix_id == PREFIX_A,
			      "%s: record flags %#x prefix %u", modes[m].name, r->flags, r->prefix_id);
	}
	close(lfd);
}

/* ---- setup ---- */

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		DIE("write %s: %s", path, strerror(errno));
	close(fd);
}

static void netns_setup(const char *cgroup)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	write_file(path, "0");
	if (unshare(CLONE_NEWNET))
		DIE("unshare(CLONE_NEWNET): %s", strerror(errno));
	nft("ip link set lo mtu 1500 up && "
	    "ip addr add 10.200.0.1/32 dev lo && ip addr add 10.201.1.5/32 dev lo && "
	    "ip addr add 10.202.0.5/32 dev lo && ip addr add 10.203.0.1/32 dev lo && "
	    "ip addr add fd00:200::1/128 dev lo nodad && ip addr add fd00:201:1::5/128 dev lo nodad && "
	    "ip addr add fd00:202::5/128 dev lo nodad && ip addr add fd00:203::1/128 dev lo nodad");
	/* cached metrics would carry a learned cwnd/RTT from one case to the next */
	write_file("/proc/sys/net/ipv4/tcp_no_metrics_save", "1");
	nft_setup();
}

static int run_child(const char *cgroup, const char *pin_dir)
{
	struct ld_dp_opts opts = { .cgroup = cgroup, .pin_dir = pin_dir, .max_prefixes = 1024, .ringbuf_kb = 1024 };
	uint64_t cnt[LEARND_CNT__MAX];

	netns_setup(cgroup);
	hz = 250; /* unless the kernel config says otherwise */
	{
		FILE *f = popen("zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r) 2>/dev/null", "r");
		char line[256];

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "CONFIG_HZ=%u", &hz) == 1)
				break;
		if (f)
			pclose(f);
	}
	if (ld_dp_open(&dp, &opts))
		DIE("cannot load and attach the data plane");
	rb = ring_buffer__new(ld_dp_records_fd(&dp), on_record, NULL, NULL);
	if (!rb)
		DIE("ring_buffer__new: %s", strerror(errno));


	printf("iw v4\n");
	case_iw(false);
	printf("iw v6\n");
	case_iw(true);
	printf("syn_rto v4\n");
	case_syn_rto(false);
	printf("syn_rto v6\n");
	case_syn_rto(true);
	printf("rwnd v4\n");
	case_rwnd(false);
	printf("rwnd v6\n");
	case_rwnd(true);
	printf("records v4\n");
	case_records(false);
	printf("records v6\n");
	case_records(true);
	printf("slots\n");
	case_slots(false);
	case_slots(true);
	printf("heartbeat\n");
	case_heartbeat();

	if (ld_counters_read(ld_dp_counters_fd(&dp), cnt) == 0) {
		CHECK(cnt[LEARND_CNT_RB_DROPS] == 0, "ring buffer drops %llu", (unsigned long long)cnt[LEARND_CNT_RB_DROPS]);
		CHECK(cnt[LEARND_CNT_IW_FAIL] == 0, "IW setsockopt failures %llu",
		      (unsigned long long)cnt[LEARND_CNT_IW_FAIL]);
		CHECK(cnt[LEARND_CNT_RECORDS] > 0, "no records counted");
	}
	ring_buffer__free(rb);
	ld_dp_close(&dp, true);
	return failures ? 1 : 0;
}

/* Remove what the child may have left: pins (the pinned link holds the program
 * on the cgroup), then the cgroup itself. */
static int cleanup(const char *cgroup, const char *pin_dir)
{
	static const char *const pins[] = { "link", "policy_map", "ctl_map", "counters", "records", "conn_store" };
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
	if (rmdir(cgroup) && errno != ENOENT) {
		fprintf(stderr, "cleanup: rmdir %s: %s\n", cgroup, strerror(errno));
		bad = 1;
	}
	return bad;
}

int main(void)
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
	ld_log_init("test_dataplane", 0);
	mnt = ld_cgroup2_mount();
	if (!mnt)
		DIE("no cgroup v2 mount");
	snprintf(cgroup, sizeof(cgroup), "%s/learnd-ktest-%d", mnt, (int)getpid());
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/learnd-ktest-%d", (int)getpid());
	if (mkdir(cgroup, 0755))
		DIE("mkdir %s: %s", cgroup, strerror(errno));

	pid = fork();
	if (pid < 0)
		DIE("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(run_child(cgroup, pin_dir));
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
