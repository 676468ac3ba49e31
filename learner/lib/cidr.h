/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Prefixes as policy-map keys: IPv4 is kept v4-mapped (::ffff:a.b.c.d/96+len). */
#ifndef LEARND_CIDR_H
#define LEARND_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include "learnd_abi.h"

#define LD_CIDR_STRLEN 64 /* enough for any formatted prefix */

/* Parse "a.b.c.d/len" or "x:y::/len" (a bare address is a host prefix).  Host
 * bits set is an error, not silently masked: the operator meant something else.
 * Returns 0, or -EINVAL with a reason in err. */
int ld_cidr_parse(const char *text, struct learnd_key *key, char *err, size_t errlen);
/* Parse a bare address into a full-length key.  Returns 0 or -EINVAL. */
int ld_addr_parse(const char *text, struct learnd_key *key);
void ld_cidr_format(const struct learnd_key *key, char *buf, size_t len);
/* Address only, without the length. */
void ld_addr_format(const __u8 addr[16], char *buf, size_t len);
bool ld_addr_is_v4(const __u8 addr[16]);
/* key with addr masked to prefixlen bits. */
void ld_key_mask(struct learnd_key *key, unsigned prefixlen);
bool ld_key_contains(const struct learnd_key *outer, const struct learnd_key *inner);

#endif
