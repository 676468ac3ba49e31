/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Close records from the ring buffer: checked decoding and a one-line text form. */
#ifndef LEARND_RECORD_H
#define LEARND_RECORD_H

#include <stddef.h>
#include "learnd_abi.h"

/* Copy a raw ring-buffer sample into rec after checking its size and fields.
 * Returns 0, or -EINVAL for a sample that is not a well-formed record. */
int ld_record_decode(const void *data, size_t size, struct learnd_record *rec);
/* "raddr=... prefix=... slot=... iw=..." on one line. */
void ld_record_format(const struct learnd_record *rec, char *buf, size_t len);

#endif
