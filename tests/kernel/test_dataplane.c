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
 *   10.204.0.5                  client in prefix C (a sparse prefix, for the budget)
 *
 * Exit status: 0 all passed, 1 a check failed, 77 skipped (not root).
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* glibc's tcp_info lacks tcpi_snd_wnd */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cidr.h"
#include "learnd_abi.h"
#include "loader.h"
#include "log.h"
#include "record.h"

#include "ktest.h"

#define PORT_IW 7001
#define PORT_RTO 7002
#define PORT_RWND 7003
#define PORT_REC 7004
#define PORT_SLOTS 7005
#define PORT_HB 7006
#define PORT_DEAD 7009
#define PORT_CUT 7010   /* the first two SYNs to it are dropped; +100: the first two SYN-ACKs from it */
#define PORT_FLIGHT 7020 /* the first data packet from it to each client port is dropped */
#define PORT_CLEAN 7021
#define PORT_BUDGET 7030

static const char *SRV4 = "10.200.0.1", *SRV6 = "fd00:200::1";
static const char *CLA4 = "10.201.1.5", *CLA6 = "fd00:201:1::5";
static const char *CLN4 = "10.202.0.5", *CLN6 = "fd00:202::5";
static const char *SRVB4 = "10.203.0.1", *SRVB6 = "fd00:203::1";
static const char *CLC4 = "10.204.0.5";

#define PREFIX_A 1
#define PREFIX_B 2
#define PREFIX_C 3

/* ---- the data plane under test ---- */

static struct ld_dataplane dp;
static unsigned hz;

static void reset_records(void)
{
	kt_drain(1 << 30, 200); /* close records of the previous case still in flight */
	kt_nrec = 0;
}

/* record_budget 0 (every connection recorded) unless a case sets one */
static uint32_t record_budget;

static void set_ctl(uint64_t heartbeat_ns, uint32_t flags, uint32_t sample_rate)
{
	struct learnd_ctl ctl = {
		.heartbeat_ns = heartbeat_ns,
		.ttl_ns = 5ull * 1000000000,
		.flags = flags,
		.sample_rate = sample_rate,
		.record_budget = record_budget,
	};

	if (ld_ctl_write(ld_dp_ctl_fd(&dp), &ctl))
		DIE("cannot write the control map");
}

/* 1: every connection sampled (socket storage, a record at close); 0: none, so
 * that every op draws its values from the trie (flow_arm in the program).
 * The value cases run both ways. */
static uint32_t sampling = 1;

static void fresh_ctl(void)
{
	set_ctl(ld_now_ns(), 0, sampling);
}

static struct learnd_arm arm(uint32_t share, uint16_t iw, uint16_t rwnd, uint16_t syn_rto_ms)
{
	return (struct learnd_arm){ .share = share, .iw = iw, .rwnd = rwnd, .syn_rto_ms = syn_rto_ms };
}

static void put_policy(const char *cidr, uint32_t id, uint32_t epoch, int nslots, const struct learnd_arm *arms)
{
	kt_put_policy(ld_dp_policy_fd(&dp), cidr, id, epoch, (uint32_t)nslots, arms);
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

static void nft_setup(void)
{
	kt_sh("nft -f - <<'EOF'\n"
	    "table inet learnd_test {\n"
	    "  set syn_seen { type inet_service; flags dynamic,timeout; timeout 30s; }\n"
	    "  set synack_seen { type inet_service; flags dynamic,timeout; timeout 30s; }\n"
	    "  set cut1 { type inet_service; flags dynamic,timeout; timeout 60s; }\n"
	    "  set cut2 { type inet_service; flags dynamic,timeout; timeout 60s; }\n"
	    "  set cuta1 { type inet_service; flags dynamic,timeout; timeout 60s; }\n"
	    "  set cuta2 { type inet_service; flags dynamic,timeout; timeout 60s; }\n"
	    "  set flight { type inet_service; flags dynamic,timeout; timeout 60s; }\n"
	    "  chain out {\n"
	    "    type filter hook output priority 0; policy accept;\n"
	    /* first SYN to PORT_RTO from each source port */
	    "    tcp dport %d tcp flags & (syn | ack) == syn tcp sport != @syn_seen add @syn_seen { tcp sport } drop\n"
	    /* first SYN-ACK from PORT_RTO+100 to each client port */
	    "    tcp sport %d tcp flags & (syn | ack) == syn | ack tcp dport != @synack_seen add @synack_seen { tcp dport } drop\n"
	    /* every SYN to PORT_DEAD: a handshake that never completes */
	    "    tcp dport %d drop\n"
	    /* the first two SYNs to PORT_CUT from each source port: two real losses */
	    "    tcp dport %d tcp flags & (syn | ack) == syn tcp sport != @cut1 add @cut1 { tcp sport } drop\n"
	    "    tcp dport %d tcp flags & (syn | ack) == syn tcp sport != @cut2 add @cut2 { tcp sport } drop\n"
	    "  }\n"
	    /* the first packet with data from PORT_FLIGHT to each client port, on
	     * input (a drop on output is a local failure that TCP sends again,
	     * not a loss): the head of the server's initial flight, all of it if
	     * GSO made the flight one packet */
	    "  chain in {\n"
	    "    type filter hook input priority 0; policy accept;\n"
	    /* the first two SYN-ACKs from PORT_CUT+100 to each client port, on
	     * input: a retransmitted SYN-ACK dropped on output fails to send, and
	     * the kernel then drops the whole request */
	    "    tcp sport %d tcp flags & (syn | ack) == syn | ack tcp dport != @cuta1 add @cuta1 { tcp dport } drop\n"
	    "    tcp sport %d tcp flags & (syn | ack) == syn | ack tcp dport != @cuta2 add @cuta2 { tcp dport } drop\n"
	    "    tcp sport %d meta length > 200 tcp dport != @flight add @flight { tcp dport } drop\n"
	    "  }\n"
	    "}\n"
	    "EOF",
	    PORT_RTO, PORT_RTO + 100, PORT_DEAD, PORT_CUT, PORT_CUT, PORT_CUT + 100, PORT_CUT + 100, PORT_FLIGHT);
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
	lfd = kt_tcp_listen(srv, PORT_IW);
	lfdb = kt_tcp_listen(srvb, PORT_IW);

	/* passive, client in prefix A: the server's accepted socket gets IW 37 */
	cfd = kt_tcp_connect(cla, srv, PORT_IW, NULL);
	sfd = kt_accept(lfd);
	ti = kt_tcp_info(sfd);
	CHECK(ti.tcpi_snd_cwnd == 37, "%s passive in prefix: cwnd %u, want 37", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	ti = kt_tcp_info(cfd); /* the client's active side: server in no prefix */
	CHECK(ti.tcpi_snd_cwnd == 10, "%s active to no prefix: cwnd %u, want 10", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	exchange(cfd, sfd, 1000, 1000);

	/* passive, client outside every prefix: kernel default */
	cfd = kt_tcp_connect(cln, srv, PORT_IW, NULL);
	sfd = kt_accept(lfd);
	ti = kt_tcp_info(sfd);
	CHECK(ti.tcpi_snd_cwnd == 10, "%s passive no prefix: cwnd %u, want 10", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	exchange(cfd, sfd, 1000, 1000);

	/* active, server in prefix B: the client's socket gets IW 37 */
	cfd = kt_tcp_connect(cln, srvb, PORT_IW, NULL);
	sfd = kt_accept(lfdb);
	ti = kt_tcp_info(cfd);
	CHECK(ti.tcpi_snd_cwnd == 37, "%s active in prefix: cwnd %u, want 37", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	ti = kt_tcp_info(sfd);
	CHECK(ti.tcpi_snd_cwnd == 10, "%s passive from no prefix: cwnd %u", v6 ? "v6" : "v4", ti.tcpi_snd_cwnd);
	exchange(cfd, sfd, 1000, 1000);

	close(lfd);
	close(lfdb);
}

static struct learnd_record *find_record(bool active, int lport, int rport)
{
	for (int i = 0; i < kt_nrec; i++) {
		bool a = kt_recs[i].flags & LEARND_REC_ACTIVE;

		if (a == active && (lport < 0 || kt_recs[i].lport == lport) && (rport < 0 || kt_recs[i].rport == rport))
			return &kt_recs[i];
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
	lfd = kt_tcp_listen(srv, PORT_RTO);
	lfdb = kt_tcp_listen(srvb, PORT_RTO);
	lfdp = kt_tcp_listen(srv, PORT_RTO + 100);

	/* active: server in prefix B, the client's SYN retransmits after 200 ms */
	cfd = kt_tcp_connect(cln, srvb, PORT_RTO, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	port = kt_local_port(cfd);
	CHECK(fabs(ms - 200) <= 2 * jiffy + rtt_slack, "%s active SYN RTO 200: connect took %.1f ms", v6 ? "v6" : "v4", ms);
	printf("  %s first SYN dropped, syn_rto_ms 200: connect %.1f ms\n", v6 ? "v6" : "v4", ms);
	sfd = kt_accept(lfdb);
	exchange(cfd, sfd, 100, 100);
	kt_drain(sampling ? 2 : 0, 2000);
	r = find_record(true, port, -1);
	CHECK(r || !sampling, "no record for the active connection");
	if (r) {
		/* the handshake time in the record is the same 200 ms, and it saw the retransmit */
		CHECK(fabs(r->handshake_us / 1e3 - 200) <= 2 * jiffy + rtt_slack, "record handshake %u us", r->handshake_us);
		CHECK(r->syn_retrans == 1, "record syn_retrans %u, want 1", r->syn_retrans);
		CHECK(r->syn_rto_ms == 200 && r->prefix_id == PREFIX_B, "record rto %u prefix %u", r->syn_rto_ms, r->prefix_id);
	}

	/* active, server in no prefix: the kernel's 1 s */
	cfd = kt_tcp_connect(cla, srv, PORT_RTO, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	CHECK(ms >= 1000 - 2 * jiffy && ms <= 1000 + 10 * jiffy, "%s default SYN RTO: connect took %.1f ms", v6 ? "v6" : "v4", ms);
	printf("  %s first SYN dropped, no prefix: connect %.1f ms\n", v6 ? "v6" : "v4", ms);
	sfd = kt_accept(lfd);
	exchange(cfd, sfd, 100, 100);

	/* passive: the first SYN-ACK to a client in prefix A is dropped; the server
	 * retransmits it after 200 ms, well before the client's own 1 s SYN timer */
	cfd = kt_tcp_connect(cla, srv, PORT_RTO + 100, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	CHECK(fabs(ms - 200) <= 2 * jiffy + rtt_slack, "%s passive SYN-ACK RTO 200: connect took %.1f ms", v6 ? "v6" : "v4", ms);
	printf("  %s first SYN-ACK dropped, syn_rto_ms 200: connect %.1f ms\n", v6 ? "v6" : "v4", ms);
	port = kt_local_port(cfd);
	sfd = kt_accept(lfdp);
	exchange(cfd, sfd, 100, 100);
	kt_drain(sampling ? 2 : 0, 2000);
	r = find_record(false, PORT_RTO + 100, port);
	CHECK(r || !sampling, "no record for the passive connection");
	if (r) {
		/* the server's handshake_us is the SYN-ACK RTT from the echoed timestamp:
		 * the client answered the retransmission, so one (loopback) round trip,
		 * not the 200 ms since the first SYN-ACK; the model tells a lost SYN-ACK
		 * from a spurious retransmit by this (docs/model.md) */
		CHECK(r->syn_retrans == 1, "passive record syn_retrans %u, want 1", r->syn_retrans);
		CHECK(r->handshake_us > 0 && r->handshake_us <= 1000 * (1 + rtt_slack),
		      "passive record handshake %u us, want one round trip (<= %.0f ms)", r->handshake_us, 1 + rtt_slack);
		printf("  %s server record: syn_retrans %u, handshake_us %u (the answered copy's RTT)\n", v6 ? "v6" : "v4",
		       r->syn_retrans, r->handshake_us);
	}

	/* passive, client in no prefix: the client's SYN retransmit (1 s) rescues it */
	cfd = kt_tcp_connect(cln, srv, PORT_RTO + 100, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	CHECK(ms >= 1000 - 2 * jiffy && ms <= 1000 + 10 * jiffy, "%s passive default: connect took %.1f ms", v6 ? "v6" : "v4", ms);
	sfd = kt_accept(lfdp);
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
	lfd = kt_tcp_listen(srv, PORT_RWND);
	lfdb = kt_tcp_listen(srvb, PORT_RWND);

	/* passive: the server's SYN-ACK to a client in prefix A */
	cfd = kt_tcp_connect(cla, srv, PORT_RWND, NULL);
	sfd = kt_accept(lfd);
	ti = kt_tcp_info(cfd);
	want = 20 * ti.tcpi_snd_mss;
	CHECK(ti.tcpi_snd_wnd == want, "%s SYN-ACK window %u, want %u (20 x %u)", v6 ? "v6" : "v4", ti.tcpi_snd_wnd,
	      want, ti.tcpi_snd_mss);
	exchange(cfd, sfd, 100, 100);

	/* passive, client in no prefix: the kernel's default, much larger */
	cfd = kt_tcp_connect(cln, srv, PORT_RWND, NULL);
	sfd = kt_accept(lfd);
	dflt = kt_tcp_info(cfd).tcpi_snd_wnd;
	CHECK(dflt > 2 * want, "%s default SYN-ACK window %u not above 2 x %u", v6 ? "v6" : "v4", dflt, want);
	exchange(cfd, sfd, 100, 100);

	/* active: the client's SYN to a server in prefix B; the server learns the
	 * client's window from its ACK, rounded up to the window scale unit */
	cfd = kt_tcp_connect(cln, srvb, PORT_RWND, NULL);
	sfd = kt_accept(lfdb);
	ti = kt_tcp_info(sfd);
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
	lfd = kt_tcp_listen(srv, PORT_REC);
	for (int i = 0; i < N; i++) {
		req[i] = 100 + 37 * (size_t)i;
		resp[i] = 1000 + 311 * (size_t)i;
		cfd = kt_tcp_connect(cla, srv, PORT_REC, NULL);
		CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
		cports[i] = kt_local_port(cfd);
		sfd = kt_accept(lfd);
		exchange(cfd, sfd, req[i], resp[i]);
	}
	close(lfd);
	kt_drain(2 * N, 3000);
	CHECK(kt_nrec == 2 * N, "%s: %d records for %d connections (both ends)", v6 ? "v6" : "v4", kt_nrec, N);

	for (int i = 0; i < kt_nrec; i++) {
		struct learnd_record *r = &kt_recs[i];
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
		socklen_t len = kt_sockaddr(srv, PORT_DEAD, &ss);
		int fd = kt_tcp_socket(cla, 0), port;
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		fcntl(fd, F_SETFL, O_NONBLOCK);
		CHECK(connect(fd, (struct sockaddr *)&ss, len) < 0 && errno == EINPROGRESS, "dead connect: %s",
		      strerror(errno));
		port = kt_local_port(fd);
		CHECK(poll(&p, 1, 300) == 0, "a dropped SYN was answered");
		close(fd);
		kt_drain(1, 2000);
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
	lfd = kt_tcp_listen(srv, PORT_SLOTS);
	for (int i = 0; i < N; i++) {
		cfd = kt_tcp_connect(cli, srv, PORT_SLOTS, NULL);
		CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
		sfd = kt_accept(lfd);
		ports[i] = kt_local_port(cfd);
		cwnd[i] = (int)kt_tcp_info(active ? cfd : sfd).tcpi_snd_cwnd;
		exchange(cfd, sfd, 10, 10);
		if (i % 64 == 63)
			kt_drain(0, 0); /* keep the ring buffer from filling */
	}
	close(lfd);
	if (!sampling) { /* no records: the IW tells the slot */
		for (int k = 0; k < N; k++) {
			CHECK(cwnd[k] == arms[0].iw || cwnd[k] == arms[1].iw, "unsampled: cwnd %d", cwnd[k]);
			count[cwnd[k] == arms[1].iw]++;
		}
		matched = N;
	}
	kt_drain(sampling ? 2 * N : 0, 3000);
	for (int i = 0; i < kt_nrec && sampling; i++) {
		struct learnd_record *r = &kt_recs[i];
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
	printf("  slots %s%s: %d/%d\n", active ? "active" : "passive", sampling ? "" : " (unsampled)", count[0],
	       count[1]);
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
	int lfd = kt_tcp_listen(SRV4, PORT_HB);

	put_single(37, 20, 200);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		bool dflt = m > 0;
		int cfd, sfd, port;
		struct tcp_info ti;
		struct learnd_record *r;

		reset_records();
		set_ctl(ld_now_ns() - (uint64_t)modes[m].age_s * 1000000000, modes[m].flags, sampling);
		cfd = kt_tcp_connect(CLA4, SRV4, PORT_HB, NULL);
		sfd = kt_accept(lfd);
		port = kt_local_port(cfd);
		ti = kt_tcp_info(sfd);
		CHECK(ti.tcpi_snd_cwnd == (dflt ? 10u : 37u), "%s: cwnd %u", modes[m].name, ti.tcpi_snd_cwnd);
		ti = kt_tcp_info(cfd);
		CHECK(dflt ? ti.tcpi_snd_wnd > 40 * ti.tcpi_snd_mss : ti.tcpi_snd_wnd == 20 * ti.tcpi_snd_mss,
		      "%s: SYN-ACK window %u", modes[m].name, ti.tcpi_snd_wnd);
		exchange(cfd, sfd, 500, 500);
		kt_drain(sampling ? 2 : 0, 2000);
		r = find_record(false, PORT_HB, port);
		CHECK(r || !sampling, "%s: no record", modes[m].name);
		if (r)
			CHECK(!(r->flags & LEARND_REC_APPLIED) == dflt && r->prefix_id == PREFIX_A,
			      "%s: record flags %#x prefix %u", modes[m].name, r->flags, r->prefix_id);
	}
	close(lfd);
}

static uint64_t counter(enum learnd_counter c)
{
	uint64_t cnt[LEARND_CNT__MAX];

	if (ld_counters_read(ld_dp_counters_fd(&dp), cnt))
		DIE("cannot read the counters");
	return cnt[c];
}

/* Issue 15: after more than one real SYN (active) or SYN-ACK (passive)
 * retransmission the kernel starts at cwnd 1 (tcp_init_transfer) and the
 * program keeps it, with a fixed IW of 37 in force: counted, and flagged in
 * the record.  One lost SYN and clean handshakes still get the IW. */
static void case_kernel_cut(bool v6)
{
	const char *srv = v6 ? SRV6 : SRV4, *cla = v6 ? CLA6 : CLA4, *cln = v6 ? CLN6 : CLN4;
	const char *srvb = v6 ? SRVB6 : SRVB4, *fam = v6 ? "v6" : "v4";
	int lcut, lcutp, lone, lclean, cfd, sfd, port;
	uint64_t kept0 = counter(LEARND_CNT_IW_KERNEL);
	struct learnd_record *r;
	struct tcp_info ti;
	double ms;

	reset_records();
	fresh_ctl();
	put_single(37, 0, 100); /* 100 ms SYN RTO: two losses cost 200 ms, not 3 s */
	lcut = kt_tcp_listen(srvb, PORT_CUT);
	lcutp = kt_tcp_listen(srv, PORT_CUT + 100);
	lone = kt_tcp_listen(srvb, PORT_RTO); /* the first SYN to it is dropped */
	lclean = kt_tcp_listen(srvb, PORT_CLEAN);

	/* active: two SYNs to a server in prefix B lost; the client keeps cwnd 1 */
	cfd = kt_tcp_connect(cln, srvb, PORT_CUT, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	port = kt_local_port(cfd);
	sfd = kt_accept(lcut);
	ti = kt_tcp_info(cfd);
	CHECK(ti.tcpi_total_retrans == 2, "%s active: %u SYN retransmissions, want 2", fam, ti.tcpi_total_retrans);
	CHECK(ti.tcpi_snd_cwnd == 1, "%s active, two SYNs lost: cwnd %u, want the kernel's 1", fam, ti.tcpi_snd_cwnd);
	printf("  %s two SYNs lost: connect %.0f ms, client cwnd %u\n", fam, ms, ti.tcpi_snd_cwnd);
	exchange(cfd, sfd, 1000, 1000);
	kt_drain(sampling ? 2 : 0, 2000);
	r = find_record(true, port, PORT_CUT);
	CHECK(r || !sampling, "%s: no record for the active connection", fam);
	if (r)
		CHECK((r->flags & LEARND_REC_IW_KERNEL) && (r->flags & LEARND_REC_APPLIED) && r->syn_retrans == 2 &&
			      r->iw == 37,
		      "%s active record flags %#x syn_retrans %u iw %u", fam, r->flags, r->syn_retrans, r->iw);

	/* passive: two SYN-ACKs to a client in prefix A lost; the server keeps cwnd 1 */
	cfd = kt_tcp_connect(cla, srv, PORT_CUT + 100, &ms);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	port = kt_local_port(cfd);
	sfd = kt_accept(lcutp);
	ti = kt_tcp_info(sfd);
	CHECK(ti.tcpi_total_retrans == 2, "%s passive: %u SYN-ACK retransmissions, want 2", fam, ti.tcpi_total_retrans);
	CHECK(ti.tcpi_snd_cwnd == 1, "%s passive, two SYN-ACKs lost: cwnd %u, want the kernel's 1", fam,
	      ti.tcpi_snd_cwnd);
	printf("  %s two SYN-ACKs lost: connect %.0f ms, server cwnd %u\n", fam, ms, ti.tcpi_snd_cwnd);
	exchange(cfd, sfd, 1000, 1000);
	kt_drain(sampling ? 2 : 0, 2000);
	r = find_record(false, PORT_CUT + 100, port);
	CHECK(r || !sampling, "%s: no record for the passive connection", fam);
	if (r)
		CHECK((r->flags & LEARND_REC_IW_KERNEL) && r->syn_retrans == 2, "%s passive record flags %#x syn_retrans %u",
		      fam, r->flags, r->syn_retrans);
	CHECK(counter(LEARND_CNT_IW_KERNEL) - kept0 == 2, "%s: iw_kernel_kept +%llu, want +2", fam,
	      (unsigned long long)(counter(LEARND_CNT_IW_KERNEL) - kept0));

	/* one SYN lost: the kernel does not cut (RFC 6298 5.7), the IW applies */
	cfd = kt_tcp_connect(cln, srvb, PORT_RTO, NULL);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	sfd = kt_accept(lone);
	ti = kt_tcp_info(cfd);
	CHECK(ti.tcpi_total_retrans == 1 && ti.tcpi_snd_cwnd == 37, "%s one SYN lost: retrans %u cwnd %u, want 1 and 37",
	      fam, ti.tcpi_total_retrans, ti.tcpi_snd_cwnd);
	exchange(cfd, sfd, 100, 100);

	/* clean handshakes, both ends in prefixes: the IW on both sides */
	cfd = kt_tcp_connect(cla, srvb, PORT_CLEAN, NULL);
	CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
	sfd = kt_accept(lclean);
	CHECK(kt_tcp_info(cfd).tcpi_snd_cwnd == 37 && kt_tcp_info(sfd).tcpi_snd_cwnd == 37,
	      "%s clean: cwnd %u / %u, want 37 both", fam, kt_tcp_info(cfd).tcpi_snd_cwnd, kt_tcp_info(sfd).tcpi_snd_cwnd);
	exchange(cfd, sfd, 100, 100);
	CHECK(counter(LEARND_CNT_IW_KERNEL) - kept0 == 2, "%s: iw_kernel_kept +%llu after handshakes the kernel did not cut",
	      fam, (unsigned long long)(counter(LEARND_CNT_IW_KERNEL) - kept0));

	close(lcut);
	close(lcutp);
	close(lone);
	close(lclean);
}

/* The server answers resp bytes under reno (no HyStart: on a clean path it
 * leaves slow start only by loss) to the client; returns the server's record.
 * The answer is written by a child process while this one reads it, so no
 * buffer size can block the exchange. */
static struct learnd_record *transfer(const char *cla, const char *srv, int lport, size_t resp)
{
	static const char cc[] = "reno";
	int lfd = kt_tcp_listen(srv, lport), cfd, sfd, port, status;
	size_t got;
	pid_t pid;

	if (setsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, cc, sizeof(cc) - 1))
		DIE("TCP_CONGESTION %s: %s", cc, strerror(errno));
	cfd = kt_tcp_connect(cla, srv, lport, NULL);
	if (cfd < 0)
		DIE("connect: %s", strerror(-cfd));
	port = kt_local_port(cfd);
	sfd = kt_accept(lfd);
	close(lfd);
	write_all(cfd, 100);
	shutdown(cfd, SHUT_WR);
	got = read_to_eof(sfd);
	CHECK(got == 100, "server read %zu of 100", got);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		DIE("fork: %s", strerror(errno));
	if (pid == 0) {
		write_all(sfd, resp);
		_exit(0);
	}
	close(sfd); /* the child's copy closes the connection when it exits */
	got = read_to_eof(cfd);
	CHECK(got == resp, "client read %zu of %zu", got, resp);
	close(cfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the answering child failed");
	kt_drain(kt_nrec + 2, 3000);
	return find_record(false, lport, port);
}

/* ABI 2 path evidence: cwnd and ssthresh at close, the last delivery-rate
 * sample, retransmissions in the initial flight (one lost packet at its head,
 * none on a clean path), the weight. */
static void case_evidence(bool v6)
{
	const char *srv = v6 ? SRV6 : SRV4, *cla = v6 ? CLA6 : CLA4, *fam = v6 ? "v6" : "v4";
	struct learnd_record *r;

	reset_records();
	fresh_ctl();
	put_single(37, 0, 0);
	r = transfer(cla, srv, PORT_CLEAN, 200000);
	CHECK(r, "%s: no record of the clean transfer", fam);
	if (r) {
		printf("  %s clean 200 KB: cwnd %u ssthresh %u, rate %u pkts / %u us, flight_lost %u, weight %u\n", fam,
		       r->snd_cwnd, r->snd_ssthresh, r->rate_delivered, r->rate_interval_us, r->flight_lost, r->weight);
		CHECK(r->total_retrans == 0 && r->flight_lost == 0, "%s clean: retrans %u flight_lost %u", fam,
		      r->total_retrans, r->flight_lost);
		/* reno's slow start from 37 without loss: cwnd grew, ssthresh untouched */
		CHECK(r->snd_cwnd > 37 && r->snd_cwnd <= r->data_segs_out + 37, "%s clean: cwnd %u (segs out %u)", fam,
		      r->snd_cwnd, r->data_segs_out);
		CHECK(r->snd_ssthresh >= 0x7fffffff, "%s clean: ssthresh %u, want the kernel's infinity", fam,
		      r->snd_ssthresh);
		CHECK(r->rate_delivered >= 1 && r->rate_delivered <= r->data_segs_out + 2 && r->rate_interval_us >= 1,
		      "%s clean: rate sample %u pkts / %u us", fam, r->rate_delivered, r->rate_interval_us);
		CHECK(r->weight == 1, "%s clean: weight %u, want 1 (every connection recorded)", fam, r->weight);
	}

	reset_records();
	r = transfer(cla, srv, PORT_FLIGHT, 200000);
	CHECK(r, "%s: no record of the transfer that lost its first packet", fam);
	if (r) {
		printf("  %s first data packet lost: flight_lost %u [%u..%u], retrans %u, cwnd %u ssthresh %u\n", fam,
		       r->flight_lost, r->flight_first, r->flight_last, r->total_retrans, r->snd_cwnd, r->snd_ssthresh);
		CHECK(r->total_retrans >= 1 && r->flight_lost >= 1 && r->flight_lost <= r->total_retrans,
		      "%s lost head: flight_lost %u, retrans %u", fam, r->flight_lost, r->total_retrans);
		CHECK(r->flight_first == 0 && r->flight_last >= r->flight_first && r->flight_last < 37,
		      "%s lost head: flight indices %u..%u, want from 0, below the IW 37", fam, r->flight_first,
		      r->flight_last);
	}
}

/* Issue 15: a record budget of 4 a second per prefix and CPU.  A dense prefix
 * (200 connections as fast as they go) is sampled, each record weighted by the
 * 1 in N it was drawn with; a sparse prefix between them (a connection every
 * 50) has every connection recorded, at weight 1. */
static void case_budget(void)
{
	enum { N = 200, SPARSE_EVERY = 50 };
	struct learnd_arm a = arm(LEARND_SHARE_ONE, 20, 0, 0);
	int lfd, cfd, sfd, dense = 0, heavy = 0, sparse = 0, nsparse = 0;
	uint64_t wsum = 0;

	reset_records();
	record_budget = 4;
	fresh_ctl();
	put_single(20, 0, 0);
	put_policy("10.204.0.0/24", PREFIX_C, 1, 1, &a);
	lfd = kt_tcp_listen(SRV4, PORT_BUDGET);
	for (int i = 0; i < N; i++) {
		bool sp = i % SPARSE_EVERY == SPARSE_EVERY - 1;

		cfd = kt_tcp_connect(sp ? CLC4 : CLA4, SRV4, PORT_BUDGET, NULL);
		CHECK(cfd >= 0, "connect: %s", strerror(-cfd));
		sfd = kt_accept(lfd);
		exchange(cfd, sfd, 10, 10);
		nsparse += sp;
		if (i % 32 == 31)
			kt_drain(0, 0);
	}
	close(lfd);
	kt_drain(1 << 30, 500);
	for (int i = 0; i < kt_nrec; i++) {
		struct learnd_record *r = &kt_recs[i];

		if (r->flags & LEARND_REC_ACTIVE)
			continue;
		CHECK(r->weight >= 1, "weight %u", r->weight);
		if (r->prefix_id == PREFIX_A) {
			dense++;
			heavy += r->weight > 1;
			wsum += r->weight;
		} else if (r->prefix_id == PREFIX_C) {
			sparse++;
			CHECK(r->weight == 1, "sparse prefix record with weight %u", r->weight);
		}
	}
	printf("  budget 4/s: dense prefix %d records for %d connections (weights sum %llu, %d above 1), "
	       "sparse %d of %d\n", dense, N - nsparse, (unsigned long long)wsum, heavy, sparse, nsparse);
	/* 4 per CPU and window at the steady rate, 4 (1 + ln(n / 4)) in a window
	 * that starts a burst: far below N on two CPUs within a few windows */
	CHECK(dense >= 1 && dense <= N / 2, "dense prefix: %d records for %d connections", dense, N - nsparse);
	CHECK(heavy >= 1, "dense prefix: no record stands for more than one connection");
	CHECK(sparse == nsparse, "sparse prefix: %d records for %d connections", sparse, nsparse);
	record_budget = 0;
}

/* ---- setup ---- */

static void netns_setup(const char *cgroup)
{
	kt_enter_netns(cgroup, "ip link set lo mtu 1500 up && "
		       "ip addr add 10.200.0.1/32 dev lo && ip addr add 10.201.1.5/32 dev lo && "
		       "ip addr add 10.202.0.5/32 dev lo && ip addr add 10.203.0.1/32 dev lo && "
		       "ip addr add 10.204.0.5/32 dev lo && "
		       "ip addr add fd00:200::1/128 dev lo nodad && ip addr add fd00:201:1::5/128 dev lo nodad && "
		       "ip addr add fd00:202::5/128 dev lo nodad && ip addr add fd00:203::1/128 dev lo nodad");
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
	kt_records_open(ld_dp_records_fd(&dp));


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
	printf("kernel's cwnd 1 after lost handshakes v4\n");
	case_kernel_cut(false);
	printf("kernel's cwnd 1 after lost handshakes v6\n");
	case_kernel_cut(true);
	printf("path evidence v4\n");
	case_evidence(false);
	printf("path evidence v6\n");
	case_evidence(true);
	printf("record budget\n");
	case_budget();

	/* The same values, and the same slot draws, for connections that are not
	 * sampled: no socket storage, every op looks the prefix up again. */
	sampling = 0;
	printf("unsampled: iw, syn_rto, rwnd, slots, heartbeat (v4 and v6)\n");
	for (int v6 = 0; v6 < 2; v6++) {
		case_iw(v6);
		case_syn_rto(v6);
		case_rwnd(v6);
		case_kernel_cut(v6);
	}
	case_slots(false);
	case_slots(true);
	case_heartbeat();
	kt_drain(1 << 30, 300);
	CHECK(kt_nrec == 0, "%d records of unsampled connections", kt_nrec);

	if (ld_counters_read(ld_dp_counters_fd(&dp), cnt) == 0) {
		CHECK(cnt[LEARND_CNT_RB_DROPS] == 0, "ring buffer drops %llu", (unsigned long long)cnt[LEARND_CNT_RB_DROPS]);
		CHECK(cnt[LEARND_CNT_IW_FAIL] == 0, "IW setsockopt failures %llu",
		      (unsigned long long)cnt[LEARND_CNT_IW_FAIL]);
		CHECK(cnt[LEARND_CNT_RECORDS] > 0, "no records counted");
	}
	kt_records_close();
	ld_dp_close(&dp, true);
	return kt_failures ? 1 : 0;
}

int main(void)
{
	return kt_main("test_dataplane", "ktest", run_child);
}
