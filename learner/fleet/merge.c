// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The fleet's pure part: batches, the checks of foreign rows, the merge of
 * several hosts' rows into one prior (docs/fleet.md, "How evidence counts"). */
#include "fleet.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "param.h"

struct ld_fleet_batch *ld_fleet_batch_new(void)
{
	return calloc(1, sizeof(struct ld_fleet_batch));
}

void ld_fleet_batch_free(struct ld_fleet_batch *b)
{
	if (!b)
		return;
	free(b->pfx);
	free(b->rows);
	free(b);
}

static int reserve(void **a, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *g;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	g = realloc(*a, c * size);
	if (!g)
		return -ENOMEM;
	*a = g;
	*cap = c;
	return 0;
}

int ld_fleet_batch_add(struct ld_fleet_batch *b, const struct ld_fleet_prefix *p, const struct learnd_model *m)
{
	size_t n;

	if (reserve((void **)&b->pfx, &b->cap, b->n + 1, sizeof(*b->pfx)) ||
	    reserve((void **)&b->rows, &b->rows_cap, b->nrows + LEARND_MODEL_MAX_ROWS, sizeof(*b->rows)))
		return -ENOMEM;
	n = learnd_model_export(m, b->rows + b->nrows, LEARND_MODEL_MAX_ROWS);
	if (n > LEARND_MODEL_MAX_ROWS)
		n = LEARND_MODEL_MAX_ROWS;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) { /* a pinned incumbent is no vote of this host's */
		const struct learnd_model_row *r = &b->rows[b->nrows + i];

		if (r->kind == LEARND_ROW_PARAM && r->param < 32 && (p->pinned & (1u << r->param)))
			continue;
		b->rows[b->nrows + k++] = *r;
	}
	n = k;
	b->pfx[b->n] = *p;
	b->pfx[b->n].row0 = b->nrows;
	b->pfx[b->n].nrows = n;
	b->n++;
	b->nrows += n;
	return 0;
}

void ld_fleet_priors_free(struct ld_fleet_prior *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].rows);
	free(v);
}

/* ---- checks of what other hosts wrote ---- */

#define COUNT_MAX 1e7  /* discounted counts: the largest window a learnd can be configured with */
#define TOTAL_MAX 1e13 /* undiscounted counts (samples, stream records) */
#define COST_CLIP 8.0  /* the model's cost_clip: a cell's normalised costs are at most this each */

static bool num_ok(double v, double max)
{
	return isfinite(v) && v >= 0 && v <= max;
}

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int ld_fleet_row_check(const struct learnd_model_row *r, char *why, size_t len)
{
	double cmax = r->kind == LEARND_ROW_PREFIX || r->kind == LEARND_ROW_PARAM ? TOTAL_MAX : COUNT_MAX;
	uint32_t vmax = r->param < LEARND_PARAM__MAX ? learnd_param_info((enum learnd_param)r->param)->max : 0;

	if (!num_ok(r->n, cmax) || !num_ok(r->sum, cmax * 1e4) || !num_ok(r->sum2, cmax * 1e8) ||
	    !num_ok(r->sum_raw, cmax * 1e4))
		return bad(why, len, "kind %u: a count or sum is negative, not finite or above %g", r->kind, cmax);
	switch (r->kind) {
	case LEARND_ROW_PREFIX:
		if (r->param || r->key > 1 || r->sum > r->n)
			return bad(why, len, "prefix row: param %u key %u failed %g of %g", r->param, r->key, r->sum, r->n);
		return 0;
	case LEARND_ROW_PARAM:
		if (r->param >= LEARND_PARAM__MAX || r->key > vmax)
			return bad(why, len, "param row: param %u value %u beyond the limits", r->param, r->key);
		return 0;
	case LEARND_ROW_ARM:
	case LEARND_ROW_FLIGHT:
		if (r->param > LEARND_PARAM_RWND || (r->kind == LEARND_ROW_FLIGHT && r->param != LEARND_PARAM_IW) ||
		    r->key > vmax)
			return bad(why, len, "value row: param %u value %u beyond the limits", r->param, r->key);
		if (r->kind == LEARND_ROW_ARM && r->sum_raw > r->n * 1e4 + 1)
			return bad(why, len, "arm row: mean cost %g round trips", r->sum_raw / r->n);
		return 0;
	case LEARND_ROW_CELL:
		if (r->param > LEARND_PARAM_RWND || (r->key & 0xffff) > vmax || (r->key >> 16) >= LEARND_MODEL_NCLASSES)
			return bad(why, len, "cell row: param %u key %#x beyond the limits", r->param, r->key);
		if (r->sum > r->n * COST_CLIP * 1.01 + 1e-3 || r->sum2 > r->n * COST_CLIP * COST_CLIP * 1.01 + 1e-3)
			return bad(why, len, "cell row: costs %g, %g of %g samples beyond the clip", r->sum, r->sum2, r->n);
		return 0;
	case LEARND_ROW_HIST:
		if (r->param > LEARND_HIST_PEER_WND || r->key >= LEARND_MODEL_QBUCKETS)
			return bad(why, len, "histogram row: %u bucket %u", r->param, r->key);
		return 0;
	case LEARND_ROW_REL:
		if (r->param || r->key || r->sum > r->n * 1.01 + 1e-3 || r->sum2 > r->n * 1.01 + 1e-3)
			return bad(why, len, "relevance row: %g senders, %g receivers of %g", r->sum, r->sum2, r->n);
		return 0;
	default:
		return bad(why, len, "unknown row kind %u", r->kind);
	}
}

int ld_fleet_prefix_check(const struct ld_fleet_prefix *p, char *why, size_t len)
{
	static const uint8_t v4map[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned min = memcmp(p->key.addr, v4map, 12) ? 1 : 97;

	if (p->key.prefixlen < min || p->key.prefixlen > 128)
		return bad(why, len, "prefix length %u: the catch-all and prefixes this wide are local only",
			   p->key.prefixlen >= 96 && min == 97 ? p->key.prefixlen - 96 : p->key.prefixlen);
	for (int i = 0; i < LEARND_PARAM__MAX; i++)
		if (p->value[i] > learnd_param_info((enum learnd_param)i)->max)
			return bad(why, len, "%s = %u in force: beyond the kernel's limit %u",
				   learnd_param_info((enum learnd_param)i)->name, p->value[i],
				   learnd_param_info((enum learnd_param)i)->max);
	if (!isfinite(p->share) || p->share < 0 || p->share > 1)
		return bad(why, len, "share %g", p->share);
	return 0;
}

/* ---- the merge ---- */

double ld_fleet_mass(const struct learnd_model_row *rows, size_t n)
{
	double arm[2] = { 0, 0 }, hist[3] = { 0, 0, 0 }, rel = 0, m = 0;

	for (size_t i = 0; i < n; i++) {
		const struct learnd_model_row *r = &rows[i];

		if (r->kind == LEARND_ROW_ARM && r->param <= LEARND_PARAM_RWND)
			arm[r->param] += r->n;
		else if (r->kind == LEARND_ROW_HIST && r->param <= LEARND_HIST_PEER_WND)
			hist[r->param] += r->n;
		else if (r->kind == LEARND_ROW_REL)
			rel = r->n;
	}
	for (int i = 0; i < 2; i++)
		m = fmax(m, arm[i]);
	for (int i = 0; i < 3; i++)
		m = fmax(m, hist[i]);
	return fmax(m, rel);
}

static int cmp_row(const void *a, const void *b)
{
	const struct learnd_model_row *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->param != y->param)
		return x->param < y->param ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* the key with the largest weight (the smaller key on a tie) */
struct vote {
	uint32_t key[64];
	double w[64];
	unsigned n;
};

static void vote_add(struct vote *v, uint32_t key, double w)
{
	for (unsigned i = 0; i < v->n; i++)
		if (v->key[i] == key) {
			v->w[i] += w;
			return;
		}
	if (v->n < 64) {
		v->key[v->n] = key;
		v->w[v->n++] = w;
	}
}

static bool vote_result(const struct vote *v, uint32_t *key)
{
	unsigned best = 0;

	if (!v->n)
		return false;
	for (unsigned i = 1; i < v->n; i++)
		if (v->w[i] > v->w[best] || (v->w[i] == v->w[best] && v->key[i] < v->key[best]))
			best = i;
	*key = v->key[best];
	return true;
}

int ld_fleet_merge(const struct ld_fleet_src *src, size_t nsrc, double host_cap, struct learnd_model_row **out,
		   struct ld_fleet_prefix *p)
{
	struct vote inc[LEARND_PARAM__MAX], force[LEARND_PARAM__MAX];
	struct learnd_model_row head[1 + LEARND_PARAM__MAX];
	size_t total = 0, n = 0, k = 0;
	struct learnd_model_row *tmp, *o;

	memset(inc, 0, sizeof(inc));
	memset(force, 0, sizeof(force));
	memset(head, 0, sizeof(head));
	head[0].kind = LEARND_ROW_PREFIX;
	for (int i = 0; i < LEARND_PARAM__MAX; i++) {
		head[1 + i].kind = LEARND_ROW_PARAM;
		head[1 + i].param = (uint8_t)i;
	}
	for (size_t s = 0; s < nsrc; s++)
		total += src[s].nrows;
	tmp = malloc((total + 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	p->samples = p->conns_total = 0;
	p->hosts = (uint32_t)nsrc;
	bool have_head[1 + LEARND_PARAM__MAX] = { false };
	for (size_t s = 0; s < nsrc; s++) {
		double mass = ld_fleet_mass(src[s].rows, src[s].nrows);
		double w = src[s].site_weight * (mass > host_cap ? host_cap / mass : 1.0);
		double vw = src[s].site_weight * fmax(fmin(mass, host_cap), 1e-3);

		p->samples += src[s].samples;
		p->conns_total += src[s].conns_total;
		for (int i = 0; i < LEARND_PARAM__MAX; i++)
			if (src[s].value[i])
				vote_add(&force[i], src[s].value[i], vw);
		for (size_t i = 0; i < src[s].nrows; i++) {
			const struct learnd_model_row *r = &src[s].rows[i];

			if (r->kind == LEARND_ROW_PREFIX || (r->kind == LEARND_ROW_PARAM && r->param < LEARND_PARAM__MAX)) {
				struct learnd_model_row *h = &head[r->kind == LEARND_ROW_PREFIX ? 0 : 1 + r->param];

				have_head[h - head] = true;
				h->n += w * r->n;
				h->sum += w * r->sum;
				if (r->kind == LEARND_ROW_PREFIX)
					h->key |= r->key;
				else {
					h->sum2 += w * r->sum2;
					vote_add(&inc[r->param], r->key, vw);
				}
				continue;
			}
			tmp[n] = *r;
			tmp[n].n *= w;
			tmp[n].sum *= w;
			tmp[n].sum2 *= w;
			tmp[n].sum_raw *= w;
			tmp[n].last_ns = 0; /* another host's clock */
			tmp[n].age = 0;
			n++;
		}
	}
	qsort(tmp, n, sizeof(*tmp), cmp_row);
	o = malloc((n + 1 + LEARND_PARAM__MAX) * sizeof(*o));
	if (!o) {
		free(tmp);
		return -ENOMEM;
	}
	for (int i = 0; i <= LEARND_PARAM__MAX; i++) {
		if (!have_head[i])
			continue;
		if (i > 0)
			vote_result(&inc[i - 1], &head[i].key);
		head[i].n = floor(head[i].n);
		head[i].sum = i == 0 ? floor(head[i].sum) : head[i].sum;
		o[k++] = head[i];
	}
	for (size_t i = 0; i < n; i++) {
		if (k && cmp_row(&o[k - 1], &tmp[i]) == 0 && o[k - 1].kind > LEARND_ROW_PARAM) {
			o[k - 1].n += tmp[i].n;
			o[k - 1].sum += tmp[i].sum;
			o[k - 1].sum2 += tmp[i].sum2;
			o[k - 1].sum_raw += tmp[i].sum_raw;
			continue;
		}
		o[k++] = tmp[i];
	}
	free(tmp);
	for (int i = 0; i < LEARND_PARAM__MAX; i++)
		if (!vote_result(&force[i], &p->value[i]))
			p->value[i] = 0;
	*out = o;
	return (int)k;
}
