/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram
 * to the AF_UNIX socket named by $NOTIFY_SOCKET ("@..." = abstract namespace).
 * Without $NOTIFY_SOCKET (not started by systemd with Type=notify) it does nothing.
 */
#ifndef LEARND_NOTIFY_H
#define LEARND_NOTIFY_H

/* Send state ("READY=1", "STOPPING=1", "RELOADING=1\nMONOTONIC_USEC=...", ...).
 * Returns 1 when sent, 0 when there is no $NOTIFY_SOCKET, or -errno. */
int ld_notify(const char *state);
/* printf-style: ld_notifyf("READY=1\nSTATUS=attached to %s", cgroup). */
int ld_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
