/*
 * daemon.h - the live sensor: capture on an interface under libuv.
 */
#ifndef SN_DAEMON_H
#define SN_DAEMON_H

#include "config.h"

struct sn_daemon_options {
	const char *config_path;   /* for SIGHUP reloads; NULL = defaults only */
	const char *interface;     /* -i, overrides capture.interface */
	const char *log_path;      /* -o, overrides output.event_log */
	int flows;                 /* --flows: 1; --no-flows: 0; else -1 (keep config) */
	uint32_t min_connections;  /* --min-connections, kept across reloads; 0 = config */
	int min_suspicion;         /* --min-suspicion (enum sn_suspicion); -1 = config */
};

/* Runs until SIGINT/SIGTERM; returns the process exit code. */
int sn_daemon_run(const struct sn_config *cfg, const struct sn_daemon_options *o);

#endif /* SN_DAEMON_H */
