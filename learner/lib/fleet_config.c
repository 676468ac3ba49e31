// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "fleet_config.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ld_fleet_state_name(enum ld_fleet_state s)
{
	static const char *const n[] = { "off", "connecting", "connected", "down", "refused" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

void ld_fleet_config_init(struct ld_fleet_config *f)
{
	*f = (struct ld_fleet_config){
		.interval_s = 10, .host_cap = 50, .other_site_pct = 10, .timeout_ms = 5000, .install_max = 1000,
	};
	if (gethostname(f->host, sizeof(f->host)) != 0)
		snprintf(f->host, sizeof(f->host), "localhost");
	f->host[sizeof(f->host) - 1] = '\0';
}

/* host and site names: what a log line, a SQL literal and a file name can all carry */
static bool name_ok(const char *s)
{
	if (strlen(s) >= LD_FLEET_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* libpq parses it here already, so a typo is a config error, not a log line at run time;
 * a password in it would travel into logs and ps: refused */
static int conninfo_ok(const char *value, char *msg, size_t len)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(value, &err);

	if (!opts) {
		size_t n;

		snprintf(msg, len, "conninfo: %s", err ? err : "out of memory");
		n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		PQfreemem(err);
		return 0;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && o->val[0]) {
			PQconninfoFree(opts);
			snprintf(msg, len, "conninfo: holds a password: give it in a passfile (the conninfo's "
				 "passfile= or PGPASSFILE), never in learnd.conf");
			return 0;
		}
	PQconninfoFree(opts);
	return 1;
}

int ld_fleet_key(struct ld_fleet_config *f, const char *name, const char *value, char *msg, size_t msglen)
{
	static const struct {
		const char *name;
		size_t off;
		uint32_t min, max;
	} keys[] = {
#define KEY(k, lo, hi) { #k, offsetof(struct ld_fleet_config, k), lo, hi }
		KEY(interval_s, 1, 3600),
		KEY(host_cap, 1, 1000000),
		KEY(other_site_pct, 0, 100),
		KEY(timeout_ms, 100, 600000),
		KEY(install_max, 0, 1u << 24),
#undef KEY
	};

	f->enabled = true;
	if (!strcmp(name, "conninfo")) {
		if (strlen(value) >= sizeof(f->conninfo) || !value[0]) {
			snprintf(msg, msglen, "conninfo: expected a libpq connection string of 1 to %zu characters",
				 sizeof(f->conninfo) - 1);
			return 0;
		}
		if (!conninfo_ok(value, msg, msglen))
			return 0;
		snprintf(f->conninfo, sizeof(f->conninfo), "%s", value);
		return 1;
	}
	if (!strcmp(name, "host") || !strcmp(name, "site")) {
		if (!name_ok(value) || (name[0] == 'h' && !value[0])) {
			snprintf(msg, msglen, "%s = %s: expected up to %d letters, digits, '.', '-' or '_'", name, value,
				 LD_FLEET_NAME_MAX - 1);
			return 0;
		}
		snprintf(name[0] == 'h' ? f->host : f->site, LD_FLEET_NAME_MAX, "%s", value);
		return 1;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *end;
		unsigned long long v;
		uint32_t *dst = (uint32_t *)((char *)f + keys[i].off);

		if (strcmp(name, keys[i].name))
			continue;
		errno = 0;
		v = strtoull(value, &end, 10);
		if (value[0] < '0' || value[0] > '9' || errno || *end || v < keys[i].min || v > keys[i].max) {
			snprintf(msg, msglen, "%s = %s: expected a whole number from %u to %u", name, value,
				 keys[i].min, keys[i].max);
			return 0;
		}
		*dst = (uint32_t)v;
		return 1;
	}
	snprintf(msg, msglen, "unknown key '%s' in [fleet] (expected conninfo, host, site, interval_s, host_cap, "
		 "other_site_pct, timeout_ms or install_max)", name);
	return 0;
}

int ld_fleet_finish(struct ld_fleet_config *f, char *msg, size_t msglen)
{
	if (f->enabled && !f->conninfo[0]) {
		snprintf(msg, msglen, "[fleet] needs conninfo (a libpq connection string)");
		return -EINVAL;
	}
	return 0;
}
