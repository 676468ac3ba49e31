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

static const char *SRV4 = "10.200.0.1", *SRV6 = "fd00:200::1";
static const char *CLA4 = "10.201.1.5", *CLA6 = "fd00:201:1::5";
static const char *CLN4 = "10.202.0.5", *CLN6 = "fd00:202::5";
static const char *SRVB4 = "10.203.0.1", *SRVB6 = "fd00:203::1";

#define PREFIX_A 1
#define PREFIX_B 2

/* ---- the data plane under test ---- */

static struct ld_dataplane dp;
static unsigned hz;

static void reset_records(void)
{
	kt_drain(1 << 30, 200); /* close records of the previous case still in flight */
	kt_nrec = 0;
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

/* ---- setup ---- */

static void netns_setup(const char *cgroup)
{
	kt_enter_netns(cgroup, "ip link set lo mtu 1500 up && "
		       "ip addr add 10.200.0.1/32 dev lo && ip addr add 10.201.1.5/32 dev lo && "
		       "ip addr add 10.202.0.5/32 dev lo && ip addr add 10.203.0.1/32 dev lo && "
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

	/* The same values, and the same slot draws, for connections that are not
	 * sampled: no socket storage, every op looks the prefix up again. */
	sampling = 0;
	printf("unsampled: iw, syn_rto, rwnd, slots, heartbeat (v4 and v6)\n");
	for (int v6 = 0; v6 < 2; v6++) {
		case_iw(v6);
		case_syn_rto(v6);
		case_rwnd(v6);
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
