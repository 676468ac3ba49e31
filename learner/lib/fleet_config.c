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

void ld_fleet_default_host(struct ld_fleet_config *f)
{
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

int ld_fleet_check_name(const char *name, const char *value, char *msg, size_t len)
{
	if (name_ok(value) && (value[0] || strcmp(name, "host")))
		return 0;
	snprintf(msg, len, "%s = %.100s: expected up to %d letters, digits, '.', '-' or '_'", name, value,
		 LD_FLEET_NAME_MAX - 1);
	return -EINVAL;
}

/* libpq parses it here already, so a typo is a config error, not a log line at run time;
 * a password in it would travel into logs and ps: refused */
int ld_fleet_check_conninfo(const char *name, const char *value, char *msg, size_t len)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(value, &err);

	if (!opts) {
		size_t n;

		snprintf(msg, len, "%s: %s", name, err ? err : "out of memory");
		n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		PQfreemem(err);
		return -EINVAL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && o->val[0]) {
			PQconninfoFree(opts);
			snprintf(msg, len, "%s: holds a password: give it in a passfile (the conninfo's "
				 "passfile= or PGPASSFILE), never in learnd.conf", name);
			return -EINVAL;
		}
	PQconninfoFree(opts);
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
