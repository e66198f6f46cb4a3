/*
 * table.h - the search's `table` for offline replay.
 *
 * Keeps one row per alerting group (the latest figures seen for it) and
 * prints them at the end with the search's columns, sorted as
 * `sort Suspicion, - ConnectionCount` sorts: high before medium before low,
 * then by ConnectionCount descending (ties by FirstSeen, src_ip, dest_ip,
 * dest_port so output is deterministic).
 */
#ifndef SN_TABLE_H
#define SN_TABLE_H

#include <stdio.h>

#include "groups.h"
#include "keyhash.h"

struct sn_table_row;

struct sn_table {
	struct sn_table_row *rows;
	size_t n_rows, cap_rows;
	size_t max_rows;        /* bound; rows beyond it are counted, not kept */
	uint64_t rows_dropped;     /* records that found no room */
	uint64_t groups_not_shown; /* alerting groups without a row (printed under the table) */
	uint32_t *index;        /* open-addressing slots: row number + 1, 0 = empty */
	size_t index_mask;      /* slots - 1 (a power of two, at least 2 * cap_rows) */
	struct sn_keyhash hkey; /* index hash secret, from the seed */
	uint64_t longest_probe; /* most slots one lookup looked at (tests, benchmarks) */
};

/* seed: the index's hash secret (sn_random_seed() per run). */
void sn_table_init(struct sn_table *t, size_t max_rows, uint64_t seed);
/*
 * Record or refresh a group's row (call for alert, update and summary).  A
 * later instance of the same group key (after a summary) adds to the
 * figures the ended ones left, so a row covers the whole replay.
 */
void sn_table_record_event(struct sn_table *t, enum sn_group_event kind, const struct sn_group *g);
/* The same without the kind (a refresh: a group without room is not counted as one). */
void sn_table_record(struct sn_table *t, const struct sn_group *g);
/*
 * Print the table (header + rows) as aligned text columns, and under it
 * "(N more rows not shown: ...)" when alerting groups found no room.
 */
void sn_table_print(const struct sn_table *t, FILE *out);
/*
 * The same rows as CSV (RFC 4180, header first): wire strings escaped as in
 * the text table, formula-looking values guarded with a leading ', empty
 * Users and process_name empty.  Nothing else is written to out.
 */
void sn_table_print_csv(const struct sn_table *t, FILE *out);
void sn_table_free(struct sn_table *t);

#endif /* SN_TABLE_H */
