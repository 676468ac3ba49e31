// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_model_cfg: learnd.conf's probe_pct range is the model's (one fact,
 * LEARND_PROBE_PCT_MAX), and a learner never runs a prefix on a model the
 * model refused.  probe_pct 31..50 were accepted by the config while the
 * model refused them: lr_promote ignored learnd_model_init's -EINVAL, and the
 * first tick decided on uninitialised memory (SIGSEGV).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cidr.h"
#include "config.h"
#include "learner.h"
#include "log.h"

static int fails;
#define EXPECT(cond, ...)                                                        \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "FAIL: %s:%d: ", __FILE__, __LINE__);    \
			fprintf(stderr, __VA_ARGS__);                            \
			fprintf(stderr, "\n");                                   \
			fails++;                                                 \
		}                                                                \
	} while (0)

static void setup(struct ld_config *cfg, struct ld_prefix_cfg *pc, uint32_t probe_pct)
{
	char err[128];

	ld_config_init(cfg);
	cfg->probe_pct = probe_pct;
	cfg->defaults.r[LEARND_PARAM_IW] = (struct ld_range){ .min = 4, .max = 64, .set = true };
	memset(pc, 0, sizeof(*pc));
	EXPECT(!ld_cidr_parse("10.0.0.0/8", &pc->key, err, sizeof(err)), "%s", err);
	pc->b = cfg->defaults;
	cfg->prefixes = pc;
	cfg->nprefixes = 1;
}

int main(void)
{
	struct ld_config cfg;
	struct ld_prefix_cfg pc;
	struct learnd_model_cfg mc;
	struct ld_learner *l;
	const struct ld_key *keys;
	size_t n;

	ld_log_init("test_model_cfg", 0);
	/* the key table's range is the model's: every probe_pct it allows makes a
	 * model configuration the model takes, the next one up does not */
	keys = ld_config_keys(&n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(keys[i].name, "probe_pct"))
			continue;
		EXPECT(keys[i].max == LEARND_PROBE_PCT_MAX, "probe_pct's range ends at %u", keys[i].max);
		for (uint32_t pct = keys[i].min; pct <= keys[i].max + 1; pct++) {
			char why[160] = "";
			int rc;

			setup(&cfg, &pc, pct);
			ld_config_model_cfg(&cfg, &cfg.defaults, &mc);
			rc = learnd_model_cfg_check(&mc, why, sizeof(why));
			EXPECT((rc == 0) == (pct <= keys[i].max), "probe_pct %u: model says %d (%s)", pct, rc, why);
		}
	}

	/* a configuration the model refuses (bypassing ld_config_load, which
	 * refuses it as a whole): the learner does not start on it */
	setup(&cfg, &pc, 40);
	l = ld_learner_new(&cfg, NULL, -1);
	EXPECT(l == NULL, "the learner started with prefixes on refused models");
	if (l) {
		ld_learner_tick(l); /* (old code: decided on uninitialised models) */
		ld_learner_free(l);
	}
	/* the largest allowed one runs */
	setup(&cfg, &pc, LEARND_PROBE_PCT_MAX);
	l = ld_learner_new(&cfg, NULL, -1);
	EXPECT(l != NULL, "the learner refused probe_pct %u", LEARND_PROBE_PCT_MAX);
	if (l) {
		EXPECT(ld_learner_tick(l) == 0, "tick failed");
		ld_learner_free(l);
	}
	if (fails) {
		fprintf(stderr, "%d failures\n", fails);
		return 1;
	}
	printf("PASS: test_model_cfg\n");
	return 0;
}
