// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: ld_cidr_parse() and ld_addr_parse() (learner/lib/cidr.c) on
 * arbitrary text.  Properties checked (abort on violation, so libFuzzer keeps
 * the input):
 *   - what parses is a valid key: prefixlen <= 128, no host bits set;
 *   - format then re-parse gives the same key (round trip), and the text fits
 *     LD_CIDR_STRLEN;
 *   - a bare address parses the same through ld_cidr_parse and ld_addr_parse;
 *   - ld_key_contains is reflexive, and a key contains its own host addresses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cidr.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool key_eq(const struct learnd_key *a, const struct learnd_key *b)
{
	return a->prefixlen == b->prefixlen && !memcmp(a->addr, b->addr, 16);
}

static void check_key(const struct learnd_key *key, const char *input)
{
	struct learnd_key masked = *key, again;
	char text[LD_CIDR_STRLEN], big[256], err[128];

	FUZZ_ASSERT(key->prefixlen <= 128);
	ld_key_mask(&masked, key->prefixlen);
	FUZZ_ASSERT(key_eq(&masked, key));
	FUZZ_ASSERT(ld_key_contains(key, key));

	/* Format into a generous buffer first, to see whether LD_CIDR_STRLEN is enough. */
	ld_cidr_format(key, big, sizeof(big));
	FUZZ_ASSERT(strlen(big) < LD_CIDR_STRLEN);
	ld_cidr_format(key, text, sizeof(text));
	FUZZ_ASSERT(!strcmp(text, big));
	if (ld_cidr_parse(text, &again, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_cidr: '%s' parsed, formats as '%s', which does not: %s\n", input, text, err);
		abort();
	}
	if (!key_eq(&again, key)) {
		fprintf(stderr, "fuzz_cidr: '%s' -> '%s' -> different key\n", input, text);
		abort();
	}
	/* The canonical text is a fixed point. */
	ld_cidr_format(&again, big, sizeof(big));
	FUZZ_ASSERT(!strcmp(text, big));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], err[160], small[8];
	struct learnd_key key, key2, host;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (ld_cidr_parse(text, &key, err, sizeof(err)) == 0) {
		check_key(&key, text);
		/* Every address of the prefix (here: the network address with the low
		 * bit set, when there is a host part) is contained in it. */
		host = key;
		host.prefixlen = 128;
		if (key.prefixlen < 128)
			host.addr[15] |= 1;
		FUZZ_ASSERT(ld_key_contains(&key, &host));
		/* A bare address: ld_cidr_parse and ld_addr_parse agree. */
		if (!strchr(text, '/')) {
			FUZZ_ASSERT(ld_addr_parse(text, &key2) == 0);
			FUZZ_ASSERT(key_eq(&key, &key2));
		}
	} else {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(strlen(err) < sizeof(err));
		/* A tiny error buffer must be truncated, never overrun. */
		FUZZ_ASSERT(ld_cidr_parse(text, &key, small, sizeof(small)) != 0);
		FUZZ_ASSERT(strlen(small) < sizeof(small));
	}

	if (ld_addr_parse(text, &key2) == 0) {
		char a[LD_CIDR_STRLEN];
		struct learnd_key key3;

		FUZZ_ASSERT(key2.prefixlen == 128);
		check_key(&key2, text);
		ld_addr_format(key2.addr, a, sizeof(a));
		FUZZ_ASSERT(ld_addr_parse(a, &key3) == 0);
		FUZZ_ASSERT(key_eq(&key2, &key3));
		FUZZ_ASSERT(ld_addr_is_v4(key2.addr) == (strchr(a, ':') == NULL));
	}

	/* The raw bytes as a key (as read back from a map or the database): masking
	 * to any length gives something that formats and re-parses to itself. */
	if (size >= 1 + 16) {
		struct learnd_key raw;

		raw.prefixlen = data[0] % 129;
		memcpy(raw.addr, data + 1, 16);
		ld_key_mask(&raw, raw.prefixlen);
		check_key(&raw, "(raw key)");
	}
	return 0;
}
