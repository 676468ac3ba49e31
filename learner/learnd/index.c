// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The hash index of the prefixes, by id and by key. */
#include "learner_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- index ---- */

static uint64_t hash_key(const struct learnd_key *k)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = (const uint8_t *)k;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static uint64_t hash_id(uint32_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ull;

	return h ^ (h >> 31);
}

static uint64_t hash_of(const struct index *ix, const struct ld_learner *l, const struct pfx *p)
{
	return ix == &l->by_id ? hash_id(p->id) : hash_key(&p->key);
}

int lr_index_init(struct index *ix, size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size <<= 1;
	ix->slot = calloc(size, sizeof(*ix->slot));
	ix->mask = size - 1;
	return ix->slot ? 0 : -ENOMEM;
}

void lr_index_put(struct ld_learner *l, struct index *ix, struct pfx *p)
{
	size_t i = hash_of(ix, l, p) & ix->mask;

	while (ix->slot[i])
		i = (i + 1) & ix->mask;
	ix->slot[i] = p;
}

void lr_index_del(struct ld_learner *l, struct index *ix, struct pfx *p)
{
	size_t i = hash_of(ix, l, p) & ix->mask, j;

	while (ix->slot[i] && ix->slot[i] != p)
		i = (i + 1) & ix->mask;
	if (!ix->slot[i])
		return;
	ix->slot[i] = NULL;
	/* backward shift: move later entries of the run into the hole when their
	 * home position allows it, so lookups never stop at a false gap */
	for (j = (i + 1) & ix->mask; ix->slot[j]; j = (j + 1) & ix->mask) {
		size_t home = hash_of(ix, l, ix->slot[j]) & ix->mask;

		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			ix->slot[i] = ix->slot[j];
			ix->slot[j] = NULL;
			i = j;
		}
	}
}

struct pfx *lr_find_id(const struct ld_learner *l, uint32_t id)
{
	for (size_t i = hash_id(id) & l->by_id.mask; l->by_id.slot[i]; i = (i + 1) & l->by_id.mask)
		if (l->by_id.slot[i]->id == id)
			return l->by_id.slot[i];
	return NULL;
}

struct pfx *lr_find_key(const struct ld_learner *l, const struct learnd_key *k)
{
	for (size_t i = hash_key(k) & l->by_key.mask; l->by_key.slot[i]; i = (i + 1) & l->by_key.mask)
		if (!memcmp(&l->by_key.slot[i]->key, k, sizeof(*k)))
			return l->by_key.slot[i];
	return NULL;
}
