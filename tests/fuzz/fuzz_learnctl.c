// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: learnctl's argument handling, the whole of it: lc_main()
 * with arbitrary arguments after "learnctl -c learnd.conf", against a real
 * database made by the store's own code (tools/sim/mkdb.c) and a pin
 * directory that does not exist.  Every command, option and value parser
 * (CIDRs, PARAM=N, times, sort keys, limits) runs as an operator would run it.
 *
 * An input is the arguments, one per line (at most 16).  Everything happens in
 * a private directory made at start-up, the working directory while lc_main()
 * runs (only then: libFuzzer's own paths are relative to where it started; give
 * -artifact_prefix as an absolute path); an input with an argument with a '/'
 * that is not part of a CIDR ('/' after a digit or a ':') is skipped, so no
 * path can leave the directory.  The database is put back before
 * each run, and files a run made there (export -o) are removed after it.
 *
 * Properties (abort on violation):
 *   - lc_main() returns 0, 1 or 2 (learnctl(8), EXIT STATUS), and frees what it
 *     allocated (LeakSanitizer checks every run);
 *   - exit status 2 ("bad usage or bad input ... nothing is written") leaves the
 *     database byte for byte as it was.
 *
 * learnctl's output goes to /dev/null; LEARND_FUZZ_VERBOSE=1 in the environment
 * keeps it (to see why an input fails).  Sanitizer reports always reach the
 * real stderr.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "learnctl.h"
#include "mkdb.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_ARGS 16
#define DB "learnd.db"
#define CONF "learnd.conf"

static char dir[] = "/tmp/fuzz_learnctl.XXXXXX";
static char *pristine; /* the database as made */
static size_t pristine_len;
static int stderr_fd = -1, null_fd = -1, home_fd = -1, dir_fd = -1;
static bool verbose;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;

	FUZZ_ASSERT(f);
	*len = 0;
	for (;;) {
		if (*len == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			FUZZ_ASSERT((buf = realloc(buf, cap)));
		}
		size_t n = fread(buf + *len, 1, cap - *len, f);

		if (!n)
			break;
		*len += n;
	}
	fclose(f);
	return buf;
}

/* Everything in the directory but the config and the pristine database. */
static void sweep(bool all)
{
	DIR *d = opendir(".");
	struct dirent *e;

	FUZZ_ASSERT(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!all && (!strcmp(e->d_name, CONF) || !strcmp(e->d_name, DB)))
			continue;
		FUZZ_ASSERT(unlink(e->d_name) == 0);
	}
	closedir(d);
}

static void cleanup(void)
{
	if (fchdir(dir_fd) == 0)
		sweep(true);
	if (fchdir(home_fd) == 0)
		rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *f;

	(void)argc;
	(void)argv;
	verbose = getenv("LEARND_FUZZ_VERBOSE") != NULL;
	FUZZ_ASSERT(mkdtemp(dir));
	FUZZ_ASSERT((home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
	FUZZ_ASSERT((dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
	FUZZ_ASSERT(fchdir(dir_fd) == 0);
	atexit(cleanup);
	FUZZ_ASSERT((f = fopen(CONF, "we")));
	/* the pin directory is absent: pause/resume/status find no data plane */
	fprintf(f, "[learnd]\ndb = %s/" DB "\npin_dir = %s/pins\n\n[defaults]\niw = 4..64\n\n"
		   "[prefix 192.0.2.0/24]\nrwnd = 10..100\nsyn_rto_ms = 200..3000\n\n"
		   "[prefix 2001:db8:1::/48]\niw = 20\n",
		dir, dir);
	FUZZ_ASSERT(fclose(f) == 0);
	FUZZ_ASSERT(ld_mkdb(DB, 5, 3, NULL) == 0);
	pristine = slurp(DB, &pristine_len);
	stderr_fd = dup(STDERR_FILENO);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	FUZZ_ASSERT(stderr_fd >= 0 && null_fd >= 0);
	__sanitizer_set_report_fd((void *)(intptr_t)stderr_fd);
	if (!verbose)
		FUZZ_ASSERT(freopen("/dev/null", "w", stdout));
	FUZZ_ASSERT(fchdir(home_fd) == 0);
	return 0;
}

static void restore_db(void)
{
	FILE *f = fopen(DB, "we");

	FUZZ_ASSERT(f && fwrite(pristine, 1, pristine_len, f) == pristine_len && fclose(f) == 0);
}

/* A '/' only inside a CIDR: after a digit or a ':' (an absolute or ./ path
 * always has one at the start, after '=' or after an option letter). */
static bool safe_arg(const char *s)
{
	for (const char *p = strchr(s, '/'); p; p = strchr(p + 1, '/'))
		if (p == s || !(p[-1] == ':' || (p[-1] >= '0' && p[-1] <= '9')))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 4], *line, *save;
	int argc = 0, rc;
	size_t len;

	if (size > 4096 || memchr(data, '\0', size))
		return 0;
	FUZZ_ASSERT((buf = malloc(size + 1)));
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "learnctl";
	argv[argc++] = "-c";
	argv[argc++] = CONF;
	for (line = strtok_r(buf, "\n", &save); line && argc < MAX_ARGS + 3; line = strtok_r(NULL, "\n", &save)) {
		if (!safe_arg(line)) {
			free(buf);
			return 0;
		}
		argv[argc++] = line;
	}
	argv[argc] = NULL;

	FUZZ_ASSERT(fchdir(dir_fd) == 0);
	restore_db();
	fflush(stdout);
	if (!verbose)
		FUZZ_ASSERT(dup2(null_fd, STDERR_FILENO) == STDERR_FILENO);
	rc = lc_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	if (!verbose)
		FUZZ_ASSERT(dup2(stderr_fd, STDERR_FILENO) == STDERR_FILENO);

	FUZZ_ASSERT(rc == LC_EXIT_OK || rc == LC_EXIT_FAIL || rc == LC_EXIT_USAGE);
	if (rc == LC_EXIT_USAGE) {
		char *now = slurp(DB, &len);

		FUZZ_ASSERT(len == pristine_len && !memcmp(now, pristine, len));
		free(now);
	}
	sweep(false);
	FUZZ_ASSERT(fchdir(home_fd) == 0);
	free(buf);
	return 0;
}
