/*
 * replay.h - offline replay: capture files in, events and the table out.
 */
#ifndef SN_REPLAY_H
#define SN_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

struct sn_replay_options {
	const char *const *files; /* in order; "-" = standard input */
	size_t n_files;
	const char *log_path;     /* NULL = no event log, "-" = standard output */
	FILE *table_out;          /* NULL = no table */
	bool table_csv;           /* the table as CSV (notes under it on standard error) */
};

/* Runs the replay; returns the process exit code (0, or 1 on a runtime error). */
int sn_replay_run(const struct sn_config *cfg, const struct sn_replay_options *o);

#endif /* SN_REPLAY_H */
