/*
 * table.c - the search's `table` for offline replay.
 *
 * Owns one row per alerting group with the latest figures seen for it, and
 * prints them as aligned text under the search's columns, sorted as
 * `sort Suspicion, - ConnectionCount` sorts (high, medium, low, then more
 * connections first; ties by FirstSeen, src_ip, dest_ip, dest_port and the
 * rest of the key so the output never depends on arrival order).  Rows are
 * found through a small open-addressing index keyed like the groups.  The
 * rows array and its index grow (realloc, doubling) up to max_rows: this
 * happens per alerting group, never per packet.  Rows beyond the bound are
 * counted, not kept.  Strings from the wire (users, process names) are
 * escaped (escape.h) so no cell can move the cursor, change the terminal or
 * break a row, and columns are aligned by display width.
 */
#include "table.h"

#include "clock.h"
#include "escape.h"
#include "keyhash.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sn_table_row {
	struct sn_addr src, dst;
	uint16_t dest_port;
	enum sn_proto proto;
	bool external;
	char process_name[64];
	uint64_t first_us, last_us;
	uint64_t connections, bytes_sent, bytes_received;
	enum sn_suspicion suspicion;
	uint8_t n_users;
	char users[SN_GROUP_NAMES][SN_GROUP_NAME_LEN];
	/* earlier instances of the group (ended by a window roll or eviction) */
	uint64_t ended_connections, ended_sent, ended_received;
};

enum col {
	COL_FIRST, COL_LAST, COL_SRC, COL_DST, COL_PROTO, COL_PORT, COL_EXT, COL_PROCESS,
	COL_USERS, COL_CONNS, COL_SENT, COL_RECEIVED, COL_SUSPICION, COL_COUNT
};

static const char *const col_names[COL_COUNT] = {
	"FirstSeen (UTC)", "LastSeen (UTC)", "src_ip", "dest_ip", "Protocol", "dest_port", "IsExternal",
	"process_name", "Users", "ConnectionCount", "BytesSent", "BytesReceived", "Suspicion",
};

/* Numbers are right-aligned, text left-aligned. */
static bool col_numeric(enum col c)
{
	return c == COL_PORT || c == COL_CONNS || c == COL_SENT || c == COL_RECEIVED;
}

/* Room for every user escaped at the worst (4 bytes per byte: \xNN) and commas. */
#define CELL_MAX (SN_GROUP_NAMES * (4 * SN_GROUP_NAME_LEN + 1) + 8)

void sn_table_init(struct sn_table *t, size_t max_rows, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->max_rows = max_rows;
	sn_keyhash_init(&t->hkey, seed);
}

void sn_table_free(struct sn_table *t)
{
	free(t->rows);
	free(t->index);
	t->rows = NULL;
	t->index = NULL;
	t->n_rows = t->cap_rows = 0;
	t->index_mask = 0;
}

static bool addr_same(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

static bool row_is(const struct sn_table_row *row, const struct sn_group *g)
{
	return row->dest_port == g->dest_port && row->proto == g->proto &&
	       row->external == g->external && addr_same(&row->src, &g->src) &&
	       addr_same(&row->dst, &g->dst) &&
	       strncmp(row->process_name, g->process_name, sizeof(row->process_name)) == 0;
}

/*
 * Keyed hash (keyhash.h, per-run secret) of the fields row_is() compares:
 * crafted addresses cannot pile rows into one probe sequence.
 */
static size_t key_hash(const struct sn_table *t, const struct sn_addr *src,
		       const struct sn_addr *dst, uint16_t port, const char *process)
{
	uint64_t w[13] = { 0 };

	memcpy(&w[0], src->b, 16);
	memcpy(&w[2], dst->b, 16);
	w[4] = port;
	memcpy(&w[5], process, strnlen(process, 63));
	return (size_t)sn_keyhash_words(&t->hkey, w, 13);
}

static size_t row_hash(const struct sn_table *t, const struct sn_table_row *r)
{
	return key_hash(t, &r->src, &r->dst, r->dest_port, r->process_name);
}

/* The index slot holding g's row, or the empty slot where it would go. */
static size_t find_slot(struct sn_table *t, const struct sn_group *g)
{
	size_t i = key_hash(t, &g->src, &g->dst, g->dest_port, g->process_name) & t->index_mask;
	uint64_t probes = 1;

	while (t->index[i] && !row_is(&t->rows[t->index[i] - 1], g)) {
		i = (i + 1) & t->index_mask; /* the index is never more than half full */
		probes++;
	}
	if (probes > t->longest_probe)
		t->longest_probe = probes;
	return i;
}

static int rebuild_index(struct sn_table *t, size_t slots)
{
	uint32_t *index = calloc(slots, sizeof(*index));

	if (!index)
		return -1;
	free(t->index);
	t->index = index;
	t->index_mask = slots - 1;
	for (size_t r = 0; r < t->n_rows; r++) {
		size_t i = row_hash(t, &t->rows[r]) & t->index_mask;
		while (t->index[i])
			i = (i + 1) & t->index_mask;
		t->index[i] = (uint32_t)(r + 1);
	}
	return 0;
}

/* Room for one more row: rows and index double together, up to max_rows. */
static int grow(struct sn_table *t)
{
	size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
	size_t slots = 1;

	if (cap > t->max_rows)
		cap = t->max_rows;
	if (cap > UINT32_MAX / 4)
		return -1;
	while (slots < 2 * cap)
		slots <<= 1;
	struct sn_table_row *rows = realloc(t->rows, cap * sizeof(*rows));
	if (!rows)
		return -1;
	t->rows = rows;
	t->cap_rows = cap;
	return rebuild_index(t, slots);
}

static struct sn_table_row *new_row(struct sn_table *t, const struct sn_group *g)
{
	if (t->n_rows >= t->max_rows)
		return NULL;
	if (t->n_rows == t->cap_rows && grow(t) != 0)
		return NULL;
	struct sn_table_row *row = &t->rows[t->n_rows++];
	memset(row, 0, sizeof(*row));
	row->src = g->src;
	row->dst = g->dst;
	row->dest_port = g->dest_port;
	row->proto = g->proto;
	row->external = g->external;
	memcpy(row->process_name, g->process_name, sizeof(row->process_name));
	row->process_name[sizeof(row->process_name) - 1] = '\0';
	t->index[find_slot(t, g)] = (uint32_t)t->n_rows;
	return row;
}

/* Adds a user to the row's sorted, distinct list of at most SN_GROUP_NAMES. */
static void row_add_user(struct sn_table_row *row, const char *u)
{
	size_t at = 0;

	while (at < row->n_users && strcmp(row->users[at], u) < 0)
		at++;
	if ((at < row->n_users && strcmp(row->users[at], u) == 0) || row->n_users >= SN_GROUP_NAMES)
		return;
	memmove(row->users[at + 1], row->users[at], (size_t)(row->n_users - at) * SN_GROUP_NAME_LEN);
	memcpy(row->users[at], u, SN_GROUP_NAME_LEN);
	row->users[at][SN_GROUP_NAME_LEN - 1] = '\0';
	row->n_users++;
}

void sn_table_record(struct sn_table *t, const struct sn_group *g)
{
	sn_table_record_event(t, SN_EV_UPDATE, g);
}

/*
 * A group's figures, added to what earlier instances of the same key
 * (ended by a window roll or an eviction: their summary) left in the row:
 * the table shows each group over the whole replay, as the search's stats
 * does.
 */
void sn_table_record_event(struct sn_table *t, enum sn_group_event kind, const struct sn_group *g)
{
	struct sn_table_row *row = NULL;
	uint32_t at = t->index ? t->index[find_slot(t, g)] : 0;

	row = at ? &t->rows[at - 1] : new_row(t, g);
	if (!row) {
		t->rows_dropped++;
		if (kind == SN_EV_ALERT)
			t->groups_not_shown++; /* a group's first event is its alert */
		return;
	}
	if (row->connections == 0 || g->first_us < row->first_us)
		row->first_us = g->first_us;
	if (g->last_us > row->last_us)
		row->last_us = g->last_us;
	row->connections = row->ended_connections + g->connections;
	row->bytes_sent = row->ended_sent + g->bytes_sent;
	row->bytes_received = row->ended_received + g->bytes_received;
	if (row->ended_connections == 0 || g->rating.suspicion > row->suspicion)
		row->suspicion = g->rating.suspicion;
	for (size_t i = 0; i < g->n_users && i < SN_GROUP_NAMES; i++)
		row_add_user(row, g->users[i]);
	if (kind == SN_EV_SUMMARY) {
		row->ended_connections = row->connections;
		row->ended_sent = row->bytes_sent;
		row->ended_received = row->bytes_received;
	}
}

/* --- sorting --------------------------------------------------------- */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_addr(const struct sn_addr *a, const struct sn_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, sizeof(a->b));
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct sn_table_row *a = *(const struct sn_table_row *const *)pa;
	const struct sn_table_row *b = *(const struct sn_table_row *const *)pb;
	int c;

	if (a->suspicion != b->suspicion)
		return a->suspicion > b->suspicion ? -1 : 1; /* high first */
	if ((c = cmp_u64(b->connections, a->connections)) != 0)
		return c;                                    /* more connections first */
	if ((c = cmp_u64(a->first_us, b->first_us)) != 0)
		return c;
	if ((c = cmp_addr(&a->src, &b->src)) != 0)
		return c;
	if ((c = cmp_addr(&a->dst, &b->dst)) != 0)
		return c;
	if ((c = cmp_u64(a->dest_port, b->dest_port)) != 0)
		return c;
	if ((c = cmp_u64((uint64_t)a->proto, (uint64_t)b->proto)) != 0)
		return c;
	if ((c = cmp_u64(a->external, b->external)) != 0)
		return c;
	return strcmp(a->process_name, b->process_name);
}

/* --- cells ----------------------------------------------------------- */

static void format_time(uint64_t ts_us, char *out, size_t cap)
{
	time_t secs = (time_t)(ts_us / SN_US_PER_S);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		snprintf(out, cap, "-");
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d.%06u", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ts_us % SN_US_PER_S));
}

/* A wire string, escaped for the terminal (escape.h). */
static size_t format_wire(const char *s, size_t max, char *out, size_t cap)
{
	return sn_escape_text(s, strnlen(s, max), out, cap, NULL);
}

static void format_users(const struct sn_table_row *r, char *out, size_t cap)
{
	size_t len = 0;

	snprintf(out, cap, "-");
	for (size_t i = 0; i < r->n_users && len + 1 < cap; i++) {
		if (i)
			out[len++] = ',';
		len += format_wire(r->users[i], SN_GROUP_NAME_LEN, out + len, cap - len);
	}
}

static void format_cell(const struct sn_table_row *r, enum col c, char *out, size_t cap)
{
	switch (c) {
	case COL_FIRST:
		format_time(r->first_us, out, cap);
		break;
	case COL_LAST:
		format_time(r->last_us, out, cap);
		break;
	case COL_SRC:
		sn_addr_format(&r->src, out);
		break;
	case COL_DST:
		sn_addr_format(&r->dst, out);
		break;
	case COL_PROTO:
		snprintf(out, cap, "%s", sn_proto_name(r->proto));
		break;
	case COL_PORT:
		snprintf(out, cap, "%u", (unsigned)r->dest_port);
		break;
	case COL_EXT:
		snprintf(out, cap, "%s", r->external ? "yes" : "no");
		break;
	case COL_PROCESS:
		if (r->process_name[0])
			format_wire(r->process_name, sizeof(r->process_name), out, cap);
		else
			snprintf(out, cap, "-");
		break;
	case COL_USERS:
		format_users(r, out, cap);
		break;
	case COL_CONNS:
		snprintf(out, cap, "%" PRIu64, r->connections);
		break;
	case COL_SENT:
		snprintf(out, cap, "%" PRIu64, r->bytes_sent);
		break;
	case COL_RECEIVED:
		snprintf(out, cap, "%" PRIu64, r->bytes_received);
		break;
	case COL_SUSPICION:
	case COL_COUNT:
		snprintf(out, cap, "%s", sn_suspicion_name(r->suspicion));
		break;
	}
}

/* --- printing -------------------------------------------------------- */

/* Columns the (escaped, printable) text takes on a terminal. */
static size_t display_width(const char *text)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t n = strlen(text), width = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t bad = 0, len = sn_utf8_decode(u + i, n - i, &cp, &bad);
		if (len == 0) {
			width += bad; /* never in escaped text */
			i += bad;
			continue;
		}
		width += cp < 0x80 ? 1 : (size_t)sn_escape_cp_width(cp);
		i += len;
	}
	return width;
}

static void pad(FILE *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(' ', out);
}

/* Pads by display width, not bytes: a wide character takes two columns. */
static void print_cell(FILE *out, enum col c, const char *text, size_t width)
{
	size_t w = display_width(text);
	size_t fill = width > w ? width - w : 0;

	if (c > 0)
		fputs("  ", out);
	if (col_numeric(c))
		pad(out, fill);
	fputs(text, out);
	if (!col_numeric(c) && c != COL_COUNT - 1)
		pad(out, fill); /* no trailing spaces after the last column */
}

static void column_widths(const struct sn_table_row *const *rows, size_t n, size_t width[COL_COUNT],
			  char *cell)
{
	for (int c = 0; c < COL_COUNT; c++)
		width[c] = display_width(col_names[c]);
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < COL_COUNT; c++) {
			format_cell(rows[i], (enum col)c, cell, CELL_MAX);
			size_t len = display_width(cell);
			if (len > width[c])
				width[c] = len;
		}
	}
}

/* The rows in the search's order; NULL when out of memory. */
static const struct sn_table_row **sorted_rows(const struct sn_table *t)
{
	const struct sn_table_row **rows = calloc(t->n_rows ? t->n_rows : 1, sizeof(*rows));

	if (!rows)
		return NULL;
	for (size_t i = 0; i < t->n_rows; i++)
		rows[i] = &t->rows[i];
	qsort(rows, t->n_rows, sizeof(*rows), cmp_rows);
	return rows;
}

static void print_csv_cell(FILE *out, int c, const char *text, char *field)
{
	if (c > 0)
		fputc(',', out);
	sn_csv_field(text, field, 2 * CELL_MAX + 4);
	fputs(field, out);
}

void sn_table_print_csv(const struct sn_table *t, FILE *out)
{
	const struct sn_table_row **rows = sorted_rows(t);
	char *cell = malloc(CELL_MAX), *field = malloc(2 * CELL_MAX + 4);

	if (!rows || !cell || !field)
		goto out_free;
	for (int c = 0; c < COL_COUNT; c++)
		print_csv_cell(out, c, col_names[c], field);
	fputs("\r\n", out);
	for (size_t i = 0; i < t->n_rows; i++) {
		const struct sn_table_row *r = rows[i];
		for (int c = 0; c < COL_COUNT; c++) {
			format_cell(r, (enum col)c, cell, CELL_MAX);
			if ((c == COL_USERS && r->n_users == 0) ||
			    (c == COL_PROCESS && r->process_name[0] == '\0'))
				cell[0] = '\0'; /* "-" is the text table's placeholder */
			print_csv_cell(out, c, cell, field);
		}
		fputs("\r\n", out);
	}
out_free:
	free(rows);
	free(cell);
	free(field);
}

void sn_table_print(const struct sn_table *t, FILE *out)
{
	size_t width[COL_COUNT];
	const struct sn_table_row **rows = sorted_rows(t);
	char *cell = malloc(CELL_MAX);

	if (!rows || !cell)
		goto out_free;
	column_widths(rows, t->n_rows, width, cell);
	for (int c = 0; c < COL_COUNT; c++)
		print_cell(out, (enum col)c, col_names[c], width[c]);
	fputc('\n', out);
	for (size_t i = 0; i < t->n_rows; i++) {
		for (int c = 0; c < COL_COUNT; c++) {
			format_cell(rows[i], (enum col)c, cell, CELL_MAX);
			print_cell(out, (enum col)c, cell, width[c]);
		}
		fputc('\n', out);
	}
	if (t->groups_not_shown)
		fprintf(out, "(%llu more row%s not shown: the table keeps at most %zu)\n",
			(unsigned long long)t->groups_not_shown, t->groups_not_shown == 1 ? "" : "s",
			t->max_rows);
out_free:
	free(rows);
	free(cell);
}
