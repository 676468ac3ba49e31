// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The data plane at the limits of its configuration, against the real kernel:
 *
 *  1. the largest max_prefixes, ringbuf_kb and sample_rate that learner/lib/config.c
 *     accepts (one more is refused) load and pass the verifier through learnd's
 *     own loader, and the maps have those sizes;
 *  2. a policy with LEARND_MAX_SLOTS slots whose shares sum to LEARND_SHARE_ONE,
 *     every value at a bound of include/learnd_abi.h: each slot is drawn, each
 *     record carries its slot's values and each connection got its slot's IW;
 *  3. sample_rate at its maximum (2^30) records nothing in 200 connections;
 *  4. a failed bpf_setsockopt shows in the counters.  TCP_BPF_IW fails with
 *     -EINVAL once a data segment has been sent before the handshake completes
 *     (data_segs_out > syn_data).  That is reachable: a TCP Fast Open client
 *     whose SYN carrying data is refused locally (here an nftables OUTPUT drop)
 *     counts the segment in data_segs_out, falls back to a plain SYN and leaves
 *     syn_data at 0, so at ACTIVE_ESTABLISHED_CB the IW cannot be set.
 *     SO_RCVBUF cannot fail: sk_setsockopt() clamps the value to
 *     net.core.rmem_max and returns 0; the test shows the clamp (rwnd = 1024
 *     asks for 2 MiB) and that no failure is counted.
 *
 * Same layout as test_dataplane.c: the parent makes a cgroup and a pin
 * directory, a forked child joins the cgroup and a fresh network namespace,
 * the parent removes everything after the child exits.
 *
 * Exit status: 0 all passed, 1 a check failed, 77 skipped (not root).
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cidr.h"
#include "config.h"
#include "learnd.skel.h"
#include "learnd_abi.h"
#include "loader.h"
#include "log.h"
#include "record.h"

#include "ktest.h"

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

/* Addresses on lo. */
#define SRV "10.210.0.1"   /* server in no prefix */
#define CLA "10.211.1.5"   /* client in the four-slot prefix */
#define SRVB "10.212.0.1"  /* server in prefix B (active-side checks) */
#define SRVT "10.213.0.1"  /* server in prefix T (TCP Fast Open, IW failure) */
#define PORT_SLOTS 7101
#define PORT_RATE 7102
#define PORT_RCVBUF 7103
#define PORT_TFO_DROP 7104
#define PORT_TFO_OK 7105
#define IW_T 37

static struct ld_dataplane dp;

static void set_ctl(uint32_t sample_rate)
{
	struct learnd_ctl ctl = { .heartbeat_ns = ld_now_ns(), .ttl_ns = 600ull * 1000000000, .sample_rate = sample_rate };

	if (ld_ctl_write(ld_dp_ctl_fd(&dp), &ctl))
		DIE("cannot write the control map");
}

static void put_policy(const char *cidr, uint32_t id, uint32_t nslots, const struct learnd_arm *arms)
{
	kt_put_policy(ld_dp_policy_fd(&dp), cidr, id, 1, nslots, arms);
}

static uint64_t counter(enum learnd_counter c)
{
	uint64_t v[LEARND_CNT__MAX];

	if (ld_counters_read(ld_dp_counters_fd(&dp), v))
		DIE("counters");
	return v[c];
}

/* ---- sockets ---- */

static int tcp_connect(const char *src, const char *dst, int port)
{
	int fd = kt_tcp_connect(src, dst, port, NULL);

	if (fd < 0)
		DIE("connect %s:%d: %s", dst, port, strerror(-fd));
	return fd;
}

/* 100 bytes each way; the client half-closes, the server answers and closes. */
static void exchange(int cfd, int sfd)
{
	char buf[100] = { 0 };
	ssize_t n;

	if (write(cfd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		DIE("write: %s", strerror(errno));
	shutdown(cfd, SHUT_WR);
	for (size_t got = 0; got < sizeof(buf); got += (size_t)n)
		if ((n = read(sfd, buf, sizeof(buf) - got)) <= 0)
			DIE("server read: %s", n ? strerror(errno) : "EOF");
	if (write(sfd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		DIE("write: %s", strerror(errno));
	close(sfd);
	while ((n = read(cfd, buf, sizeof(buf))) > 0)
		;
	close(cfd);
}

/* ---- 1: limits of the configuration ---- */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0 || fclose(f))
		DIE("write %s: %s", path, strerror(errno));
}

static int load_config(const char *dir, const char *body, struct ld_config *cfg)
{
	char path[512], err[512];
	int rc;

	snprintf(path, sizeof(path), "%s/limits.conf", dir);
	write_text(path, body);
	rc = ld_config_load(path, cfg, err, sizeof(err));
	unlink(path);
	return rc;
}

/* The largest values the config accepts, and that one more is refused. */
static void config_limits(struct ld_config *cfg)
{
	char dir[] = "/tmp/learnd-limits-XXXXXX";
	struct ld_config bad;

	if (!mkdtemp(dir))
		DIE("mkdtemp: %s", strerror(errno));
	CHECK(load_config(dir, "[learnd]\nmax_prefixes = 16777217\n", &bad) == -EINVAL, "max_prefixes 2^24+1 accepted");
	CHECK(load_config(dir, "[learnd]\nringbuf_kb = 2097152\n", &bad) == -EINVAL, "ringbuf_kb 2^21 accepted");
	CHECK(load_config(dir, "[learnd]\nsample_rate = 1073741825\n", &bad) == -EINVAL, "sample_rate 2^30+1 accepted");
	if (load_config(dir, "[learnd]\nmax_prefixes = 16777216\nringbuf_kb = 1048576\nsample_rate = 1073741824\n", cfg))
		DIE("the config refuses its own limits");
	rmdir(dir);
	CHECK(cfg->max_prefixes == 1u << 24 && cfg->ringbuf_kb == 1u << 20 && cfg->sample_rate == 1u << 30,
	      "limits read back as %u %u %u", cfg->max_prefixes, cfg->ringbuf_kb, cfg->sample_rate);
}

static void check_loaded(const struct ld_config *cfg)
{
	struct bpf_prog_info pi;
	struct bpf_map_info mi;
	__u32 len;

	memset(&mi, 0, sizeof(mi));
	len = sizeof(mi);
	CHECK(bpf_obj_get_info_by_fd(ld_dp_policy_fd(&dp), &mi, &len) == 0 && mi.max_entries == cfg->max_prefixes,
	      "policy map max_entries %u", mi.max_entries);
	memset(&mi, 0, sizeof(mi));
	len = sizeof(mi);
	CHECK(bpf_obj_get_info_by_fd(ld_dp_records_fd(&dp), &mi, &len) == 0 && mi.max_entries == cfg->ringbuf_kb * 1024u,
	      "ring buffer max_entries %u", mi.max_entries);
	memset(&pi, 0, sizeof(pi));
	len = sizeof(pi);
	CHECK(bpf_obj_get_info_by_fd(bpf_program__fd(dp.skel->progs.learnd_sockops), &pi, &len) == 0,
	      "program info: %s", strerror(errno));
	printf("loaded: max_prefixes %u, ring buffer %u KiB, %u instructions (%u verified)\n", cfg->max_prefixes,
	       cfg->ringbuf_kb, pi.xlated_prog_len / 8, pi.verified_insns);
}

/* ---- 2: four slots, values at their bounds ---- */

static const struct learnd_arm slot_arms[LEARND_MAX_SLOTS] = {
	{ .share = 16384, .iw = LEARND_IW_MAX, .rwnd = LEARND_RWND_MAX, .syn_rto_ms = LEARND_SYN_RTO_MS_MAX,
	  .base_rtt_us = LEARND_BASE_RTT_US_MAX },
	{ .share = 16384, .iw = 1, .rwnd = 1, .syn_rto_ms = LEARND_SYN_RTO_MS_MIN, .base_rtt_us = 1 },
	{ .share = 16384, .iw = 2, .rwnd = LEARND_RWND_MAX, .syn_rto_ms = LEARND_SYN_RTO_MS_MIN, .base_rtt_us = 1 },
	{ .share = LEARND_SHARE_ONE - 3 * 16384, .iw = LEARND_IW_MAX - 1, .rwnd = 1,
	  .syn_rto_ms = LEARND_SYN_RTO_MS_MAX, .base_rtt_us = LEARND_BASE_RTT_US_MAX },
};

#define NCONN 200

static void case_slots(void)
{
	int lfd = kt_tcp_listen(SRV, PORT_SLOTS), seen[LEARND_MAX_SLOTS] = { 0 }, matched = 0;
	static int cwnd_by_port[65536];
	uint32_t sum = 0;

	for (int i = 0; i < LEARND_MAX_SLOTS; i++)
		sum += slot_arms[i].share;
	CHECK(sum == LEARND_SHARE_ONE, "shares sum to %u", sum);
	put_policy("10.211.1.0/24", 1, LEARND_MAX_SLOTS, slot_arms);
	set_ctl(1);
	kt_nrec = 0;
	memset(cwnd_by_port, -1, sizeof(cwnd_by_port));
	for (int i = 0; i < NCONN; i++) {
		int cfd = tcp_connect(CLA, SRV, PORT_SLOTS), sfd = kt_accept(lfd);

		cwnd_by_port[kt_local_port(cfd)] = (int)kt_tcp_info(sfd).tcpi_snd_cwnd;
		exchange(cfd, sfd);
	}
	close(lfd);
	kt_drain(2 * NCONN, 3000);
	for (int i = 0; i < kt_nrec; i++) {
		const struct learnd_record *r = &kt_recs[i];
		const struct learnd_arm *a;

		if (r->flags & LEARND_REC_ACTIVE)
			continue; /* the client's side: the server is in no prefix */
		CHECK(r->prefix_id == 1 && r->slot < LEARND_MAX_SLOTS, "record prefix %u slot %u", r->prefix_id, r->slot);
		if (r->slot >= LEARND_MAX_SLOTS)
			continue;
		a = &slot_arms[r->slot];
		seen[r->slot]++;
		CHECK(r->iw == a->iw && r->rwnd == a->rwnd && r->syn_rto_ms == a->syn_rto_ms &&
			      r->base_rtt_us == a->base_rtt_us,
		      "slot %u record values %u %u %u %u", r->slot, r->iw, r->rwnd, r->syn_rto_ms, r->base_rtt_us);
		CHECK(r->flags & LEARND_REC_APPLIED, "slot %u not applied", r->slot);
		CHECK(cwnd_by_port[r->rport] == (int)a->iw, "slot %u: snd_cwnd at accept %d, slot iw %u", r->slot,
		      cwnd_by_port[r->rport], a->iw);
		matched++;
	}
	CHECK(matched == NCONN, "%d passive records of %d", matched, NCONN);
	for (int s = 0; s < LEARND_MAX_SLOTS; s++)
		CHECK(seen[s] >= NCONN / LEARND_MAX_SLOTS / 2, "slot %d drawn %d times of %d", s, seen[s], NCONN);
	printf("slots: %d/%d/%d/%d of %d passive records, every value at its bound carried and IW applied\n", seen[0],
	       seen[1], seen[2], seen[3], matched);
}

/* ---- 3: the largest sample rate ---- */

static void case_rate(uint32_t rate)
{
	int lfd = kt_tcp_listen(SRV, PORT_RATE);
	uint64_t before = counter(LEARND_CNT_RECORDS);

	set_ctl(rate);
	kt_nrec = 0;
	for (int i = 0; i < NCONN; i++) {
		int cfd = tcp_connect(CLA, SRV, PORT_RATE), sfd = kt_accept(lfd);

		exchange(cfd, sfd);
	}
	close(lfd);
	kt_drain(1, 300);
	CHECK(kt_nrec == 0 && counter(LEARND_CNT_RECORDS) == before, "sample_rate %u: %d records", rate, kt_nrec);
	printf("sample_rate %u: %d records for %d connections\n", rate, kt_nrec, NCONN);
}

/* ---- 4: setsockopt failures in the counters ---- */

/* One connection from CLA to SRVB with the active side's rwnd (0: no policy):
 * the client's SO_RCVBUF and SO_RCVLOWAT right after connect(), the server's
 * view of the client's window and scale, and the client's SO_RCVBUF after it
 * read bulk bytes (autotuning, unless the buffer was locked). */
struct rcv_seen {
	int rcvbuf, lowat, rcvbuf_after;
	unsigned wnd, wscale;
};

static void rcv_conn(uint16_t rwnd, size_t bulk, struct rcv_seen *o)
{
	struct learnd_arm a = { .share = LEARND_SHARE_ONE, .rwnd = rwnd };
	static char buf[1 << 16];
	int lfd, cfd, sfd;
	socklen_t len = sizeof(int);
	struct tcp_info ti;
	ssize_t n;

	put_policy("10.212.0.0/24", 2, 1, &a);
	set_ctl(1);
	lfd = kt_tcp_listen(SRVB, PORT_RCVBUF);
	cfd = tcp_connect(CLA, SRVB, PORT_RCVBUF);
	sfd = kt_accept(lfd);
	close(lfd);
	getsockopt(cfd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf, &len);
	len = sizeof(int);
	getsockopt(cfd, SOL_SOCKET, SO_RCVLOWAT, &o->lowat, &len);
	ti = kt_tcp_info(sfd);
	o->wnd = ti.tcpi_snd_wnd;
	o->wscale = ti.tcpi_snd_wscale;
	/* the server sends bulk bytes while the client reads them */
	for (size_t sent = 0; sent < bulk;) {
		if ((n = write(sfd, buf, sizeof(buf))) <= 0)
			DIE("bulk write: %s", strerror(errno));
		sent += (size_t)n;
		while (recv(cfd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	}
	shutdown(sfd, SHUT_WR);
	while ((n = read(cfd, buf, sizeof(buf))) > 0)
		;
	len = sizeof(int);
	getsockopt(cfd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf_after, &len);
	close(sfd);
	close(cfd);
}

/* An active side's rwnd above what its buffer allows raises the buffer without
 * locking it (SO_RCVLOWAT, not SO_RCVBUF): the peer sees the larger window at
 * once, the window scale is the kernel's own, the low-water mark is back at 1,
 * and receive autotuning still grows the buffer.  LEARND_RWND_MAX does not fail. */
static void case_rcvbuf(void)
{
	uint64_t fails = counter(LEARND_CNT_RCVBUF_FAIL);
	struct rcv_seen d, r, m;

	rcv_conn(0, 32u << 20, &d);
	rcv_conn(200, 32u << 20, &r);
	rcv_conn(LEARND_RWND_MAX, 0, &m);
	CHECK(counter(LEARND_CNT_RCVBUF_FAIL) == fails, "SO_RCVLOWAT / TCP_WINDOW_CLAMP failure counted");
	printf("rcvbuf: default %d -> %d after 32 MiB, window %u, wscale %u; rwnd 200: %d -> %d, window %u, "
	       "wscale %u, lowat %d; rwnd %u: %d, window %u\n", d.rcvbuf, d.rcvbuf_after, d.wnd, d.wscale, r.rcvbuf,
	       r.rcvbuf_after, r.wnd, r.wscale, r.lowat, LEARND_RWND_MAX, m.rcvbuf, m.wnd);
	CHECK(r.rcvbuf > d.rcvbuf && r.wnd > d.wnd && r.wnd >= 150u * 1000u, "rwnd 200: buffer %d window %u (default %d %u)",
	      r.rcvbuf, r.wnd, d.rcvbuf, d.wnd);
	CHECK(r.lowat == 1 && m.lowat == 1, "low-water mark left at %d / %d", r.lowat, m.lowat);
	CHECK(r.wscale == d.wscale && m.wscale == d.wscale, "window scale %u / %u, the kernel's own %u", r.wscale,
	      m.wscale, d.wscale);
	CHECK(d.rcvbuf_after > d.rcvbuf, "autotuning did not grow the default buffer (%d -> %d): the check below "
	      "would not tell", d.rcvbuf, d.rcvbuf_after);
	CHECK(r.rcvbuf_after > r.rcvbuf, "rwnd 200 locked the buffer: %d -> %d after 32 MiB", r.rcvbuf, r.rcvbuf_after);
	CHECK(m.wnd > r.wnd, "rwnd %u: window %u not above rwnd 200's %u", LEARND_RWND_MAX, m.wnd, r.wnd);
}

/* A TCP Fast Open connection: SYN with data via sendto(MSG_FASTOPEN). */
static void tfo_connection(int port, int *cwnd)
{
	struct sockaddr_storage s;
	int lfd = kt_tcp_listen(SRVT, port), cfd = kt_tcp_socket(CLA, 0), sfd;
	char buf[500] = { 0 };

	if (sendto(cfd, buf, sizeof(buf), MSG_FASTOPEN, (struct sockaddr *)&s, kt_sockaddr(SRVT, port, &s)) !=
	    (ssize_t)sizeof(buf))
		DIE("sendto(MSG_FASTOPEN): %s", strerror(errno));
	sfd = kt_accept(lfd);
	*cwnd = (int)kt_tcp_info(cfd).tcpi_snd_cwnd;
	{
		ssize_t n;

		shutdown(cfd, SHUT_WR);
		while ((n = read(sfd, buf, sizeof(buf))) > 0)
			;
		close(sfd);
		while ((n = read(cfd, buf, sizeof(buf))) > 0)
			;
		close(cfd);
	}
	close(lfd);
}

static void case_iw_failure(void)
{
	struct learnd_arm a = { .share = LEARND_SHARE_ONE, .iw = IW_T };
	uint64_t f0;
	int cwnd;

	put_policy("10.213.0.0/24", 3, 1, &a);
	set_ctl(1);
	/* client Fast Open without a cookie (1 | 4): the first SYN carries data */
	kt_sh("sysctl -q -w net.ipv4.tcp_fastopen=5");
	kt_sh("nft -f - <<'EOF'\n"
	   "table inet learnd_limits {\n"
	   "  chain out {\n"
	   "    type filter hook output priority 0; policy accept;\n"
	   "    ip daddr " SRVT " tcp dport " "7104" " tcp flags & (syn | ack) == syn ip length > 200 drop\n"
	   "  }\n"
	   "}\n"
	   "EOF");

	f0 = counter(LEARND_CNT_IW_FAIL);
	tfo_connection(PORT_TFO_OK, &cwnd);
	/* the ACK of the SYN's data already added one segment in slow start */
	CHECK(cwnd >= IW_T && counter(LEARND_CNT_IW_FAIL) == f0, "Fast Open, SYN data sent: cwnd %d, failures %llu",
	      cwnd, (unsigned long long)(counter(LEARND_CNT_IW_FAIL) - f0));
	printf("Fast Open, SYN with data delivered: snd_cwnd %d (iw %d applied), IW failures +%llu\n", cwnd, IW_T,
	       (unsigned long long)(counter(LEARND_CNT_IW_FAIL) - f0));

	f0 = counter(LEARND_CNT_IW_FAIL);
	for (int i = 0; i < 3; i++) {
		tfo_connection(PORT_TFO_DROP, &cwnd);
		CHECK(cwnd < IW_T, "Fast Open, SYN data refused: cwnd %d, the policy's IW", cwnd);
	}
	CHECK(counter(LEARND_CNT_IW_FAIL) - f0 == 3, "IW failures +%llu, expected 3",
	      (unsigned long long)(counter(LEARND_CNT_IW_FAIL) - f0));
	printf("Fast Open, SYN with data refused locally: snd_cwnd %d (kernel default), IW failures +%llu of 3\n",
	       cwnd, (unsigned long long)(counter(LEARND_CNT_IW_FAIL) - f0));
	kt_sh("nft delete table inet learnd_limits");
}

/* ---- setup ---- */

static int run_child(const char *cgroup, const char *pin_dir)
{
	struct ld_config cfg;
	struct ld_dp_opts opts = { .cgroup = cgroup, .pin_dir = pin_dir };

	kt_enter_netns(cgroup, "ip link set lo mtu 1500 up && ip addr add " SRV "/32 dev lo && "
		       "ip addr add " CLA "/32 dev lo && ip addr add " SRVB "/32 dev lo && "
		       "ip addr add " SRVT "/32 dev lo");
	config_limits(&cfg);
	opts.max_prefixes = cfg.max_prefixes;
	opts.ringbuf_kb = cfg.ringbuf_kb;
	if (ld_dp_open(&dp, &opts))
		DIE("the data plane does not load at the configuration's limits");
	check_loaded(&cfg);
	kt_records_open(ld_dp_records_fd(&dp));

	case_slots();
	case_rate(cfg.sample_rate);
	case_rcvbuf();
	case_iw_failure();
	CHECK(counter(LEARND_CNT_RB_DROPS) == 0, "ring buffer drops");

	kt_records_close();
	ld_dp_close(&dp, true);
	ld_config_free(&cfg);
	return kt_failures ? 1 : 0;
}

int main(void)
{
	return kt_main("test_limits", "klimits", run_child);
}
