// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: ld_record_decode() (learner/lib/record.c) on arbitrary bytes, as
 * if they came from the ring buffer, then ld_record_format() of what decodes.
 * Properties: decoding accepts exactly sizeof(struct learnd_record) bytes with a
 * valid slot and known flags, copies them unchanged, and the text form of any
 * record fits the buffer learnd.c uses (768 bytes) without truncation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "record.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LEARND_C_LINE 768 /* learner/learnd/learnd.c on_record(): char line[768] */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct learnd_record rec;
	char big[4096], line[LEARND_C_LINE], tiny[16];
	void *copy;
	int rc;

	/* A heap copy of exactly size bytes, so that ASan sees any read past it. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rc = ld_record_decode(copy, size, &rec);
	FUZZ_ASSERT(rc == 0 || rc == -22 /* -EINVAL */);
	if (size != sizeof(rec))
		FUZZ_ASSERT(rc != 0);
	if (rc == 0) {
		FUZZ_ASSERT(!memcmp(&rec, copy, sizeof(rec)));
		FUZZ_ASSERT(rec.slot < LEARND_MAX_SLOTS);
		FUZZ_ASSERT((rec.flags & ~LEARND_REC_FLAGS_KNOWN) == 0);

		ld_record_format(&rec, big, sizeof(big));
		FUZZ_ASSERT(strncmp(big, "record raddr=", 13) == 0);
		FUZZ_ASSERT(strchr(big, '\n') == NULL);
		/* learnd.c's buffer is big enough for any record. */
		FUZZ_ASSERT(strlen(big) < sizeof(line));
		ld_record_format(&rec, line, sizeof(line));
		FUZZ_ASSERT(!strcmp(line, big));
		ld_record_format(&rec, tiny, sizeof(tiny));
		FUZZ_ASSERT(strlen(tiny) < sizeof(tiny));
	}
	FUZZ_ASSERT(ld_record_decode(NULL, sizeof(rec), &rec) == -22);
	free(copy);
	return 0;
}
