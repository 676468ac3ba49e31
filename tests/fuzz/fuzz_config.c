// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the config parser (learner/lib/config.c, inih underneath) on
 * arbitrary file contents.
 *
 * config.h has only a file-path entry point, ld_config_load(path, ...), so each
 * input is written to one memfd made at start-up and loaded through
 * /proc/self/fd/N (fopen() of that path opens the memfd afresh, at offset 0).
 * Nothing is written to the file system.
 *
 * Properties (abort on violation):
 *   - rc is 0, -EINVAL or -ENOMEM; on error err is "PATH:LINE: message" (or
 *     "PATH: message" for a check across keys) and the prefixes are freed;
 *   - the LINE of a message is a line of the file (1..number of lines), and a
 *     "NAME = VALUE: ..." message quotes a value that is on that line;
 *   - on success every bound is within the kernel limits with min <= max, every
 *     prefix is a masked key that formats and re-parses to itself and is the
 *     CIDR its [prefix ...] header line gives, no prefix is listed twice, every [prefix] key is set where [defaults] sets it, and the
 *     [learnd] numbers respect their documented minimums; no path keeps a
 *     comment (the comment rule) or a trailing slash.
 *
 * LEARND_FUZZ_SKIP in the environment turns checks off, to keep exploring for
 * memory errors while a known bug is unfixed: "msg" skips the check that the
 * message quotes its own line, "line" the check that the line exists,
 * "header" the check of a prefix against its header (all: LEARND_FUZZ_SKIP=
 * msg,line,header).  tests/fuzz/crashes/ has an input for each.
 */
#define _GNU_SOURCE /* memfd_create, memmem */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cidr.h"
#include "model.h" /* LEARND_PROBE_PCT_MAX */
#include "config.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int memfd = -1;
static char path[64];
static bool skip_msg, skip_line, skip_header;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *skip = getenv("LEARND_FUZZ_SKIP");

	(void)argc;
	(void)argv;
	memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("fuzz_config: memfd_create");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	skip_msg = skip && strstr(skip, "msg");
	skip_line = skip && strstr(skip, "line");
	skip_header = skip && strstr(skip, "header");
	return 0;
}

/* Physical line n (1-based) of the input: its start and length, or 0 if none. */
static int get_line(const uint8_t *data, size_t size, unsigned long n, const uint8_t **start, size_t *len)
{
	const uint8_t *p = data, *end = data + size, *nl;

	if (n == 0 || size == 0)
		return 0;
	while (--n) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || nl + 1 == end)
			return 0; /* fewer lines than n */
		p = nl + 1;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	*start = p;
	*len = (size_t)((nl ? nl : end) - p);
	return 1;
}

static void check_error(const uint8_t *data, size_t size, int rc, const char *err, const struct ld_config *cfg)
{
	size_t plen = strlen(path);
	const char *p, *msg, *eq;
	unsigned long line;
	const uint8_t *ls;
	size_t ll;
	char *end;

	FUZZ_ASSERT(rc == -EINVAL || rc == -ENOMEM);
	FUZZ_ASSERT(cfg->prefixes == NULL && cfg->nprefixes == 0);
	FUZZ_ASSERT(strncmp(err, path, plen) == 0 && err[plen] == ':');
	if (rc != -EINVAL)
		return;
	p = err + plen + 1;
	if (*p == ' ')
		return; /* "PATH: message": about the whole file, not one line */
	errno = 0;
	line = strtoul(p, &end, 10);
	FUZZ_ASSERT(end != p && *end == ':' && end[1] == ' ');
	msg = end + 2;
	if (skip_line)
		return;
	/* The line named is a line of the file. */
	if (!get_line(data, size, line, &ls, &ll)) {
		fprintf(stderr, "fuzz_config: error names line %lu of a %zu-byte file that has fewer lines: %s\n",
			line, size, err);
		abort();
	}
	/* "NAME = VALUE: why": VALUE (up to the first ':', at most 16 chars) is on that line. */
	eq = strstr(msg, " = ");
	if (!skip_msg && eq && eq > msg && strcspn(msg, " ") == (size_t)(eq - msg)) { /* NAME is one word */
		const char *v = eq + 3;
		size_t vl = strcspn(v, ":");

		if (vl > 16)
			vl = 16;
		if (vl && !memmem(ls, ll, v, vl)) {
			fprintf(stderr, "fuzz_config: message for line %lu quotes a value not on it: %s\n", line, err);
			abort();
		}
	}
}

static void check_range(const struct ld_range *r, enum learnd_param p)
{
	uint32_t kmin, kmax;

	if (!r->set) {
		FUZZ_ASSERT(r->min == 0 && r->max == 0);
		return;
	}
	ld_param_limits(p, &kmin, &kmax);
	FUZZ_ASSERT(kmin <= r->min && r->min <= r->max && r->max <= kmax);
}

/* The [prefix CIDR] header on line n says the prefix key is: it is the key
 * parsed (inih must not have cut the section name short). */
static void check_header(const uint8_t *data, size_t size, const struct ld_prefix_cfg *pc)
{
	const uint8_t *ls;
	size_t ll, n;
	char hdr[512], *t, *close;
	struct learnd_key key;
	char err[160];

	if (skip_header)
		return;
	if (!get_line(data, size, pc->line, &ls, &ll)) {
		if (skip_line)
			return;
		fprintf(stderr, "fuzz_config: a prefix's header line %u is not a line of the file\n", pc->line);
		abort();
	}
	n = ll < sizeof(hdr) - 1 ? ll : sizeof(hdr) - 1;
	memcpy(hdr, ls, n);
	hdr[n] = '\0';
	t = hdr;
	if (pc->line == 1 && !strncmp(t, "\xEF\xBB\xBF", 3))
		t += 3; /* inih skips a UTF-8 BOM on the first line */
	for (; isspace((unsigned char)*t); t++) /* as inih skips it */
		;
	if (strncmp(t, "[prefix", 7) != 0) {
		if (skip_line)
			return;
		fprintf(stderr, "fuzz_config: a prefix's header line %u is not a [prefix] header\n", pc->line);
		abort();
	}
	if (strncmp(t, "[prefix ", 8) != 0 || !(close = strchr(t, ']')) || memchr(t, ';', (size_t)(close - t)))
		return; /* not a plain header (a long line, a comment inside...) */
	*close = '\0';
	for (t += 8; *t == ' '; t++)
		;
	while (close > t && (close[-1] == ' ' || close[-1] == '\t'))
		*--close = '\0';
	if (ld_cidr_parse(t, &key, err, sizeof(err)) != 0 || memcmp(&key, &pc->key, sizeof(key)) != 0) {
		char got[LD_CIDR_STRLEN];

		ld_cidr_format(&pc->key, got, sizeof(got));
		fprintf(stderr, "fuzz_config: line %u says [prefix %s] but the config has %s\n", pc->line, t, got);
		abort();
	}
}

/* A path as the comment rule and the trimming leave it: no comment left in
 * it (" #", " ;"), no trailing slash but for "/". */
static void check_path(const char *p)
{
	size_t n = strlen(p);

	for (size_t i = 1; i < n; i++)
		FUZZ_ASSERT(!((p[i] == '#' || p[i] == ';') && isspace((unsigned char)p[i - 1])));
	FUZZ_ASSERT(n <= 1 || p[n - 1] != '/');
}

static void check_ok(const uint8_t *data, size_t size, const struct ld_config *cfg)
{
	FUZZ_ASSERT(cfg->sample_rate >= 1);
	FUZZ_ASSERT(cfg->heartbeat_ttl_ms >= 100);
	FUZZ_ASSERT(cfg->tick_ms >= 10);
	FUZZ_ASSERT(cfg->max_prefixes >= 1);
	FUZZ_ASSERT(cfg->ringbuf_kb >= 4 && (cfg->ringbuf_kb & (cfg->ringbuf_kb - 1)) == 0);
	FUZZ_ASSERT(memchr(cfg->cgroup, '\0', sizeof(cfg->cgroup)) != NULL);
	FUZZ_ASSERT(cfg->cgroup[0] == '\0' || cfg->cgroup[0] == '/');
	FUZZ_ASSERT(memchr(cfg->db, '\0', sizeof(cfg->db)) != NULL && cfg->db[0] == '/');
	FUZZ_ASSERT(memchr(cfg->pin_dir, '\0', sizeof(cfg->pin_dir)) != NULL && cfg->pin_dir[0] == '/');
	FUZZ_ASSERT(!strcmp(cfg->path, path));
	check_path(cfg->cgroup);
	check_path(cfg->db);
	check_path(cfg->pin_dir);
	check_path(cfg->metrics_file);
	FUZZ_ASSERT(cfg->probe_pct >= 1 && cfg->probe_pct <= LEARND_PROBE_PCT_MAX);
	FUZZ_ASSERT((cfg->nprefixes == 0) == (cfg->prefixes == NULL));
	for (int p = 0; p < LEARND_PARAM__MAX; p++)
		check_range(&cfg->defaults.r[p], (enum learnd_param)p);

	for (size_t i = 0; i < cfg->nprefixes; i++) {
		const struct ld_prefix_cfg *pc = &cfg->prefixes[i];
		struct learnd_key k = pc->key, again;
		char text[LD_CIDR_STRLEN], err[160];

		FUZZ_ASSERT(pc->key.prefixlen <= 128);
		ld_key_mask(&k, k.prefixlen);
		FUZZ_ASSERT(!memcmp(&k, &pc->key, sizeof(k)));
		ld_cidr_format(&pc->key, text, sizeof(text));
		FUZZ_ASSERT(ld_cidr_parse(text, &again, err, sizeof(err)) == 0);
		FUZZ_ASSERT(!memcmp(&again, &pc->key, sizeof(again)));
		for (int p = 0; p < LEARND_PARAM__MAX; p++) {
			check_range(&pc->b.r[p], (enum learnd_param)p);
			if (cfg->defaults.r[p].set)
				FUZZ_ASSERT(pc->b.r[p].set);
		}
		check_header(data, size, pc);
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(memcmp(&cfg->prefixes[j].key, &pc->key, sizeof(pc->key)) != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ld_config cfg; /* 4 x PATH_MAX: not on the stack */
	char err[512];
	int rc;

	if (size > 64 * 1024)
		return 0;
	if (ftruncate(memfd, 0) || (size && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz_config: memfd");
		abort();
	}
	err[0] = '\0';
	rc = ld_config_load(path, &cfg, err, sizeof(err));
	if (rc == 0) {
		check_ok(data, size, &cfg);
		ld_config_free(&cfg);
		FUZZ_ASSERT(cfg.prefixes == NULL && cfg.nprefixes == 0);
	} else {
		FUZZ_ASSERT(err[0] != '\0');
		check_error(data, size, rc, err, &cfg);
	}
	return 0;
}
