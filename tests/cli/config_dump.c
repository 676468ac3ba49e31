// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config_dump: the configuration as learnd reads it, for the tests of this
 * directory (no root, no BPF, nothing written).
 *
 *   config_dump --keys   the key table (config.c), one key a line, tab-separated:
 *                        section, key, type, default ("" = none), min, max
 *                        ("" for a path), pow2 or "", reload (sighup/restart), help
 *   config_dump --params the keys of [defaults] and [prefix CIDR] (learnd_vocab.h):
 *                        key, kernel minimum, kernel maximum
 *   config_dump FILE     load FILE; print "section.key = value" for every key of
 *                        the table, "defaults.iw = MIN..MAX" for each bound set,
 *                        then each [prefix] and its bounds; exit 2 with
 *                        ld_config_load's message on error
 */
#include <stdio.h>
#include <string.h>
#include "cidr.h"
#include "config.h"

static void print_value(const struct ld_config *cfg, const struct ld_key *k)
{
	const void *v = (const char *)cfg + k->off;

	switch (k->type) {
	case LD_KEY_PATH: printf("%s", (const char *)v); break;
	case LD_KEY_TEXT: printf("%s", k->def); break; /* the table's (host's is the machine's name) */
	case LD_KEY_U32: printf("%u", *(const uint32_t *)v); break;
	case LD_KEY_BOOL: printf("%s", *(const bool *)v ? "true" : "false"); break;
	}
}

/* "WHERE.iw = 4..64" for each parameter set */
static void print_bounds(const char *where, const struct ld_bounds *b)
{
	for (int p = 0; p < LEARND_PARAM__MAX; p++)
		if (b->r[p].set)
			printf("%s.%s = %u..%u\n", where, ld_param_name((enum learnd_param)p), b->r[p].min, b->r[p].max);
}

static const char *type_name(enum ld_key_type t)
{
	return t == LD_KEY_PATH ? "path" : t == LD_KEY_U32 ? "u32" : t == LD_KEY_TEXT ? "text" : "bool";
}

int main(int argc, char **argv)
{
	static struct ld_config cfg;
	const struct ld_key *keys;
	char err[1024];
	size_t n;

	keys = ld_config_keys(&n);
	if (argc != 2) {
		fprintf(stderr, "usage: config_dump --keys | FILE\n");
		return 2;
	}
	if (!strcmp(argv[1], "--keys")) {
		ld_config_init(&cfg);
		for (size_t i = 0; i < n; i++) {
			const struct ld_key *k = &keys[i];

			printf("%s\t%s\t%s\t", k->section, k->name, type_name(k->type));
			print_value(&cfg, k);
			if (k->type == LD_KEY_PATH || k->type == LD_KEY_TEXT)
				printf("\t\t");
			else
				printf("\t%u\t%u", k->min, k->max);
			printf("\t%s\t%s\t%s\n", k->flags & LD_KEY_POW2 ? "pow2" : "",
			       k->reload == LD_KEY_RESTART ? "restart" : "sighup", k->help);
		}
		return 0;
	}
	if (!strcmp(argv[1], "--params")) {
		for (int p = 0; p < LEARND_PARAM__MAX; p++) {
			uint32_t lo, hi;

			ld_param_limits((enum learnd_param)p, &lo, &hi);
			printf("%s\t%u\t%u\n", ld_param_name((enum learnd_param)p), lo, hi);
		}
		return 0;
	}
	if (ld_config_load(argv[1], &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s.%s = ", keys[i].section, keys[i].name);
		print_value(&cfg, &keys[i]);
		printf("\n");
	}
	print_bounds("defaults", &cfg.defaults);
	for (size_t i = 0; i < cfg.nprefixes; i++) {
		char cidr[LD_CIDR_STRLEN];

		ld_cidr_format(&cfg.prefixes[i].key, cidr, sizeof(cidr));
		printf("prefix %s (line %u)\n", cidr, cfg.prefixes[i].line);
		print_bounds(cidr, &cfg.prefixes[i].b);
	}
	ld_config_free(&cfg);
	return 0;
}
