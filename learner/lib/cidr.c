// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const __u8 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool ld_addr_is_v4(const __u8 addr[16])
{
	return memcmp(addr, v4mapped, sizeof(v4mapped)) == 0;
}

void ld_key_mask(struct learnd_key *key, unsigned prefixlen)
{
	key->prefixlen = prefixlen;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefixlen > i * 8 ? prefixlen - i * 8 : 0;

		if (bits < 8)
			key->addr[i] &= (__u8)(0xff00 >> bits);
	}
}

bool ld_key_contains(const struct learnd_key *outer, const struct learnd_key *inner)
{
	struct learnd_key k = *inner;

	if (inner->prefixlen < outer->prefixlen)
		return false;
	ld_key_mask(&k, outer->prefixlen);
	return memcmp(k.addr, outer->addr, 16) == 0;
}

int ld_addr_parse(const char *text, struct learnd_key *key)
{
	struct in_addr a4;

	memset(key, 0, sizeof(*key));
	key->prefixlen = 128;
	if (inet_pton(AF_INET, text, &a4) == 1) {
		memcpy(key->addr, v4mapped, sizeof(v4mapped));
		memcpy(key->addr + 12, &a4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, key->addr) == 1)
		return 0;
	return -EINVAL;
}

int ld_cidr_parse(const char *text, struct learnd_key *key, char *err, size_t errlen)
{
	char addr[LD_CIDR_STRLEN], *end;
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	struct learnd_key masked;
	unsigned long len;
	bool v4;

	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "'%s' is not a prefix (expected a.b.c.d/len or x:y::/len)", text);
		return -EINVAL;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (ld_addr_parse(addr, key)) {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", addr);
		return -EINVAL;
	}
	v4 = strchr(addr, ':') == NULL;
	if (!slash) {
		len = v4 ? 32 : 128;
	} else {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end != '\0' || errno || len > (v4 ? 32u : 128u)) {
			snprintf(err, errlen, "'%s': prefix length must be 0..%u", text, v4 ? 32 : 128);
			return -EINVAL;
		}
	}
	if (v4)
		len += 96;
	masked = *key;
	ld_key_mask(&masked, (unsigned)len);
	if (memcmp(masked.addr, key->addr, 16) != 0) {
		char want[LD_CIDR_STRLEN];

		ld_cidr_format(&masked, want, sizeof(want));
		snprintf(err, errlen, "'%s' has host bits set (did you mean %s?)", text, want);
		return -EINVAL;
	}
	*key = masked;
	return 0;
}

void ld_addr_format(const __u8 addr[16], char *buf, size_t len)
{
	if (ld_addr_is_v4(addr))
		inet_ntop(AF_INET, addr + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, addr, buf, (socklen_t)len);
}

void ld_cidr_format(const struct learnd_key *key, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	bool v4 = ld_addr_is_v4(key->addr) && key->prefixlen >= 96;

	ld_addr_format(key->addr, a, sizeof(a));
	if (v4)
		snprintf(buf, len, "%s/%u", a, key->prefixlen - 96);
	else
		snprintf(buf, len, "%s/%u", a, key->prefixlen);
}
