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
#include "flowgen.h"

/* ------------------------------------------------------------------------------------ */
/* usage                                                                                */

void usage(FILE *f)
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

