// SPDX-License-Identifier: GPL-2.0
/* flowgen: small helpers (errors, clocks, byte order, seeded random numbers, parsing, signals). */
#include "flowgen.h"

const char *prog = "flowgen";
volatile sig_atomic_t g_stop;

/* ------------------------------------------------------------------------------------ */
/* small helpers                                                                        */

/* "flowgen: message", a tail, exit status. */
static void vdie(int status, const char *tail, const char *fmt, va_list ap) __attribute__((noreturn));
static void vdie(int status, const char *tail, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
	exit(status);
}

void die_usage(const char *fmt, ...)
{
	char tail[64];
	va_list ap;

	snprintf(tail, sizeof(tail), " (see '%s --help')\n", prog);
	va_start(ap, fmt);
	vdie(2, tail, fmt, ap);
}

void die_runtime(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(1, "\n", fmt, ap);
}

int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "EUNKNOWN";
}

void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

uint64_t splitmix64(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* Deterministic per (seed, stream, index): the sequence does not depend on concurrency. */
uint64_t rand_at(uint64_t seed, uint64_t stream, uint64_t idx)
{
	return splitmix64(splitmix64(seed ^ (stream * UINT64_C(0xD1B54A32D192ED03))) + idx);
}

/* uniform in (0, 1) */
double unit_at(uint64_t seed, uint64_t stream, uint64_t idx)
{
	return ((double)(rand_at(seed, stream, idx) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

bool parse_u64(const char *s, uint64_t *out)
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

bool parse_double(const char *s, double *out)
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
bool parse_size(const char *s, uint64_t *out)
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
bool parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
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

void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

void install_signals(void)
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

const char *opt_name(char **argv, int optind_now)
{
	/* the option getopt just rejected */
	const char *o = argv[optind_now - 1];
	return o ? o : "?";
}

void opt_other(const char *cmd, int o, char **argv)
{
	if (o == OPT_HELP || o == 'h') {
		usage(stdout);
		exit(0);
	}
	if (o == ':')
		die_usage("%s: option '%s' needs a value", cmd, opt_name(argv, optind));
	die_usage("%s: unknown option '%s'", cmd, opt_name(argv, optind));
}

