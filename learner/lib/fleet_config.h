/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * learnd.conf's [fleet] section (docs/config.md, docs/fleet.md): where the fleet's
 * PostgreSQL is and how much other hosts' evidence counts.  Its keys are rows
 * of config.c's key table; what only [fleet] needs is here.
 * No [fleet] section: enabled is false and learnd never loads a connection.
 */
#ifndef LEARND_FLEET_CONFIG_H
#define LEARND_FLEET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LD_FLEET_CONNINFO_MAX 1024
#define LD_FLEET_NAME_MAX 64

struct ld_fleet_config {
	bool enabled;                        /* a [fleet] section was given */
	char conninfo[LD_FLEET_CONNINFO_MAX]; /* libpq string or URI, no password in it */
	char host[LD_FLEET_NAME_MAX];        /* this host's name in the fleet (default: hostname) */
	char site[LD_FLEET_NAME_MAX];        /* "" = the one site of all hosts */
	uint32_t interval_s;                 /* push and pull every this often (10) */
	uint32_t host_cap;                   /* one host's evidence counts as at most this many samples (50) */
	uint32_t other_site_pct;             /* evidence of another site counts this % (10) */
	uint32_t timeout_ms;                 /* connect and statement timeout (5000) */
	uint32_t install_max;                /* fleet prefixes installed before their first connection (1000) */
};

/* The fleet link's state (learner/fleet/), as learnd's daemon table holds it. */
enum ld_fleet_state {
	LD_FLEET_OFF = 0,     /* no [fleet] section */
	LD_FLEET_CONNECTING,  /* not connected yet, or reconnecting (backoff) */
	LD_FLEET_CONNECTED,   /* pushes and pulls */
	LD_FLEET_DOWN,        /* the last attempt failed: retried with backoff */
	LD_FLEET_REFUSED,     /* the server refused us (password, schema, host not ours): retried slowly */
};
const char *ld_fleet_state_name(enum ld_fleet_state s);

/* The checks of [fleet]'s text keys (config.c's key table holds the section's
 * rows): 0, or -EINVAL with "NAME = VALUE: why" in msg. */
int ld_fleet_check_conninfo(const char *name, const char *value, char *msg, size_t len);
int ld_fleet_check_name(const char *name, const char *value, char *msg, size_t len);
/* The machine's hostname, host's default (the key table's default is empty). */
void ld_fleet_default_host(struct ld_fleet_config *f);
/* After the file: 0, or -EINVAL with a message (a [fleet] without conninfo). */
int ld_fleet_finish(struct ld_fleet_config *f, char *msg, size_t msglen);

#endif
