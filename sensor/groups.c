/*
 * groups.c - the aggregator: the search's `stats ... by` groups.
 *
 * Owns the group table and the timing of alert / update / summary.  The
 * table is sized once from max_groups and its slots are bigmem.h memory
 * (zeroed, resident only once touched, in huge pages where the kernel
 * gives them: a page fault per 2 MiB of groups, not per 4 KiB), so slots
 * that are never used cost no memory; slots are handed out by a high-water
 * mark and then recycled through a free list.  Three intrusive lists over
 * slot indices (1-based, 0 = none, so zeroed memory is "empty"):
 *   - hash chains (hash_next) to find a group by key;
 *   - the LRU list (lru.h, shared with the flow table), least recently
 *     reported first, so expiry and eviction look only at its head;
 *   - the dirty list (dirty_next plus a private prev link) of alerted groups
 *     that changed since their last event, so ticks never scan the table.
 * A tick that finds nothing due remembers when the next update is due and
 * returns at once until then, so it may be called on every packet.
 *
 * Only OPEN reports create a group: an UPDATE or CLOSE for a connection
 * whose group already ended (expired or evicted) is not counted again.
 * After a rules swap every group is re-rated without emitting anything; a
 * group that now meets the rule alerts on its next report.
 *
 * Allow-listed connections go to a group of their own (the key plus
 * `allowed`) that never alerts and ends with a summary naming the entry;
 * a connection whose user may still come is held first (see `struct
 * held`).  A group window of 0 (replay) never ends a group by time.  Capped
 * lists (names, topics, flow ids) mark what they dropped in `truncated`.
 */
#include "groups.h"

#include "bigmem.h"
#include "clock.h"
#include "keyhash.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define SN_GROUP_NIL 0u

/*
 * The allow decision of recent connections, by flow id (direct-mapped: a
 * slot is reused by a later connection).  A connection whose user may still
 * come (AMQP, XMPP confirmed in clear, no user yet, allow_users set) is
 * HELD: not counted anywhere until its user is known, it closes, or
 * SN_ALLOW_HOLD_US have passed since its first packet; its latest report
 * waits in `held_rep`.  Later reports of a decided connection go where its
 * first went.
 */
#define SN_GROUPS_HELD 1024
#define SN_ALLOW_HOLD_US (10u * SN_US_PER_S)

enum held_state { HELD_FREE = 0, HELD_WAITING, HELD_COUNTED, HELD_ALLOWED };

struct held {
	uint64_t flow_id;
	enum held_state state;
	uint64_t due_us;
	char by[SN_ALLOWED_BY_LEN];
};

/* Per-slot state that is not part of the public struct. */
struct sn_group_aux {
	uint64_t seq;              /* creation order, for a deterministic flush */
	uint32_t dirty_prev;
	uint16_t details_port;     /* the connection details came from: client port */
	uint64_t details_first_us; /* ... and its first packet */
	/* details.topics[0, topics_rated) were matched against the command
	 * patterns, the matches are bits of topic_bits: topics are only ever
	 * appended, so a report matches only the new ones.  Both are cleared
	 * when the details are replaced (their topics reordered) and when the
	 * rules change. */
	uint8_t topics_rated;
	uint16_t topic_bits;
};
_Static_assert(SN_META_TOPICS <= 16, "topic_bits and sn_group.command_topics hold a bit a topic");

struct sn_groups {
	struct sn_groups_config cfg;
	const struct sn_rules *rules;
	struct sn_group_sink sink;
	struct sn_keyhash hkey;    /* group hash secret, from cfg.seed */

	struct sn_group *slots;    /* max_groups, slot i is index i + 1 */
	struct sn_group_aux *aux;
	uint32_t *buckets;         /* power of two >= max_groups */
	uint32_t bucket_mask;
	uint32_t high_water;       /* slots ever handed out */
	uint32_t free_head;        /* recycled slots, linked by hash_next */

	struct sn_lru lru;
	uint32_t dirty_head;
	uint64_t next_due_us;      /* no update is due before this */
	uint64_t seq;

	/* connections held until their allow decision is final (allow_users) */
	struct held *held;         /* SN_GROUPS_HELD slots, by flow id */
	struct sn_conn_report *held_rep; /* HELD_WAITING: the slot's latest report */
	uint32_t n_held;           /* slots in state HELD */
	uint64_t held_due_us;      /* no held connection is due before this */

	struct sn_conn_report named; /* the report being handled, with its dest_host */

	struct sn_groups_stats st;
};

const char *sn_group_event_name(enum sn_group_event k)
{
	switch (k) {
	case SN_EV_ALERT:
		return "alert";
	case SN_EV_UPDATE:
		return "update";
	case SN_EV_SUMMARY:
		break;
	}
	return "summary";
}

/* Copies a NUL-terminated string into dst[cap], cutting it to fit. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static struct sn_group *slot(struct sn_groups *gs, uint32_t idx)
{
	return &gs->slots[idx - 1];
}

static uint32_t index_of(const struct sn_groups *gs, const struct sn_group *g)
{
	return (uint32_t)(g - gs->slots) + 1;
}

/* --- creation ------------------------------------------------------- */

struct sn_groups *sn_groups_create(const struct sn_groups_config *cfg, const struct sn_rules *rules,
				   const struct sn_group_sink *sink)
{
	struct sn_groups *gs = calloc(1, sizeof(*gs));
	uint32_t n = cfg->max_groups ? cfg->max_groups : 1;
	uint32_t buckets = 1;

	if (!gs)
		return NULL;
	if (n > (1u << 30)) {
		free(gs);
		errno = EINVAL;
		return NULL;
	}
	while (buckets < n)
		buckets <<= 1;
	gs->cfg = *cfg;
	gs->cfg.max_groups = n;
	gs->rules = rules;
	if (sink)
		gs->sink = *sink;
	gs->bucket_mask = buckets - 1;
	sn_keyhash_init(&gs->hkey, cfg->seed);
	gs->slots = sn_bigmem_alloc((size_t)n * sizeof(*gs->slots));
	gs->aux = sn_bigmem_alloc((size_t)n * sizeof(*gs->aux));
	gs->buckets = calloc(buckets, sizeof(*gs->buckets));
	gs->held = calloc(SN_GROUPS_HELD, sizeof(*gs->held));
	gs->held_rep = calloc(SN_GROUPS_HELD, sizeof(*gs->held_rep)); /* touched only when used */
	if (!gs->slots || !gs->aux || !gs->buckets || !gs->held || !gs->held_rep) {
		sn_groups_destroy(gs);
		errno = ENOMEM;
		return NULL;
	}
	return gs;
}

void sn_groups_destroy(struct sn_groups *gs)
{
	if (!gs)
		return;
	sn_bigmem_free(gs->slots, (size_t)gs->cfg.max_groups * sizeof(*gs->slots));
	sn_bigmem_free(gs->aux, (size_t)gs->cfg.max_groups * sizeof(*gs->aux));
	free(gs->buckets);
	free(gs->held);
	free(gs->held_rep);
	free(gs);
}

/* --- the key -------------------------------------------------------- */

struct group_key {
	const struct sn_addr *src, *dst;
	uint16_t port;
	enum sn_proto proto;
	bool external;
	const char *process;
	bool allowed;
};

/*
 * The key as words for the keyed hash (keyhash.h): addresses, then family,
 * port, protocol and IsExternal in one word, then the process name padded
 * with zeros.  Keyed with a per-run secret: an attacker who chooses
 * addresses cannot make groups share a chain.
 */
#define KEY_WORDS 13

static uint32_t key_hash(const struct sn_groups *gs, const struct group_key *k)
{
	uint64_t w[KEY_WORDS] = { 0 };

	memcpy(&w[0], k->src->b, 16);
	memcpy(&w[2], k->dst->b, 16);
	w[4] = (uint64_t)k->src->family | (uint64_t)k->dst->family << 8 | (uint64_t)k->port << 16 |
	       (uint64_t)k->proto << 32 | (uint64_t)k->external << 40 | (uint64_t)k->allowed << 48;
	memcpy(&w[5], k->process, strnlen(k->process, 8 * (KEY_WORDS - 5) - 1));
	return (uint32_t)sn_keyhash_words(&gs->hkey, w, KEY_WORDS);
}

static bool addr_same(const struct sn_addr *a, const struct sn_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

static bool key_matches(const struct sn_group *g, const struct group_key *k, uint32_t h)
{
	return g->hash == h && g->dest_port == k->port && g->proto == k->proto &&
	       g->external == k->external && g->allowed == k->allowed && addr_same(&g->src, k->src) &&
	       addr_same(&g->dst, k->dst) && strcmp(g->process_name, k->process) == 0;
}

static struct sn_group *lookup(struct sn_groups *gs, const struct group_key *k, uint32_t h)
{
	for (uint32_t i = gs->buckets[h & gs->bucket_mask]; i != SN_GROUP_NIL; i = slot(gs, i)->hash_next) {
		gs->st.probes++;
		if (key_matches(slot(gs, i), k, h))
			return slot(gs, i);
	}
	return NULL;
}

/* --- lists ---------------------------------------------------------- */

/* Where the LRU list (lru.h) finds a group's link: slot i is slots[i - 1]. */
static struct sn_lru_nodes group_nodes(const struct sn_groups *gs)
{
	return (struct sn_lru_nodes){ .base = (char *)gs->slots, .stride = sizeof *gs->slots,
				      .offset = offsetof(struct sn_group, lru), .first = 1,
				      .nil = SN_GROUP_NIL };
}

static void dirty_unlink(struct sn_groups *gs, struct sn_group *g)
{
	uint32_t prev = gs->aux[index_of(gs, g) - 1].dirty_prev;

	if (!g->on_dirty_list)
		return;
	if (prev)
		slot(gs, prev)->dirty_next = g->dirty_next;
	else
		gs->dirty_head = g->dirty_next;
	if (g->dirty_next)
		gs->aux[g->dirty_next - 1].dirty_prev = prev;
	g->dirty_next = SN_GROUP_NIL;
	g->on_dirty_list = false;
}

static uint64_t update_due(const struct sn_groups *gs, const struct sn_group *g)
{
	return g->last_emit_us + (uint64_t)gs->cfg.update_interval_s * SN_US_PER_S;
}

/* An alerted group changed: it owes an update once its interval is over. */
static void mark_dirty(struct sn_groups *gs, struct sn_group *g)
{
	uint32_t idx = index_of(gs, g);

	g->dirty = true;
	if (g->on_dirty_list)
		return;
	g->on_dirty_list = true;
	g->dirty_next = gs->dirty_head;
	gs->aux[idx - 1].dirty_prev = SN_GROUP_NIL;
	if (gs->dirty_head)
		gs->aux[gs->dirty_head - 1].dirty_prev = idx;
	gs->dirty_head = idx;
	if (update_due(gs, g) < gs->next_due_us)
		gs->next_due_us = update_due(gs, g);
}

static void hash_unlink(struct sn_groups *gs, struct sn_group *g)
{
	uint32_t *link = &gs->buckets[g->hash & gs->bucket_mask];
	uint32_t idx = index_of(gs, g);

	while (*link != SN_GROUP_NIL && *link != idx)
		link = &slot(gs, *link)->hash_next;
	if (*link == idx)
		*link = g->hash_next;
}

/* --- emission and ending ---------------------------------------------- */

static void emit(struct sn_groups *gs, enum sn_group_event kind, struct sn_group *g,
		 uint64_t ts_us)
{
	if (kind == SN_EV_ALERT)
		gs->st.alerts++;
	else if (kind == SN_EV_UPDATE)
		gs->st.updates++;
	else
		gs->st.summaries++;
	g->last_emit_us = ts_us;
	g->dirty = false;
	if (gs->sink.group_event)
		gs->sink.group_event(gs->sink.ctx, kind, g, ts_us);
}

/* A group that ends without alerting: which threshold kept it quiet. */
static void count_below(struct sn_groups *gs, const struct sn_group *g)
{
	const struct sn_config *cfg = gs->rules->cfg;
	uint64_t min = cfg->rules.min_connections ? cfg->rules.min_connections : 1;
	bool few = g->connections < min, mild = g->rating.suspicion < cfg->rules.min_suspicion;

	if (few && mild)
		gs->st.below_both++;
	else if (few)
		gs->st.below_connections++;
	else if (mild)
		gs->st.below_suspicion++;
}

/* Ends a group: its summary if it alerted, then the slot is recycled. */
static void end_group(struct sn_groups *gs, struct sn_group *g, uint64_t ts_us)
{
	uint32_t idx = index_of(gs, g);

	if (g->alerted || g->allowed)
		emit(gs, SN_EV_SUMMARY, g, ts_us); /* allowed: counted whole, never alerted */
	else
		count_below(gs, g);
	dirty_unlink(gs, g);
	sn_lru_unlink(&gs->lru, group_nodes(gs), idx);
	hash_unlink(gs, g);
	memset(g, 0, sizeof(*g));
	memset(&gs->aux[idx - 1], 0, sizeof(gs->aux[idx - 1]));
	g->hash_next = gs->free_head;
	gs->free_head = idx;
	gs->st.groups_active--;
}

static struct sn_group *take_slot(struct sn_groups *gs, uint64_t ts_us)
{
	if (gs->free_head == SN_GROUP_NIL && gs->high_water == gs->cfg.max_groups) {
		end_group(gs, slot(gs, gs->lru.head), ts_us); /* full: least recently seen */
		gs->st.groups_evicted++;
	}
	if (gs->free_head != SN_GROUP_NIL) {
		struct sn_group *g = slot(gs, gs->free_head);
		gs->free_head = g->hash_next;
		g->hash_next = SN_GROUP_NIL;
		return g;
	}
	return slot(gs, ++gs->high_water);
}

static struct sn_group *create(struct sn_groups *gs, const struct group_key *k, uint32_t h,
			       const struct sn_conn_report *r)
{
	struct sn_group *g = take_slot(gs, r->ts_us);
	uint32_t idx = index_of(gs, g);

	g->src = *k->src;
	g->dst = *k->dst;
	g->dest_port = k->port;
	g->proto = k->proto;
	g->external = k->external;
	copy_str(g->process_name, sizeof(g->process_name), k->process);
	g->allowed = k->allowed;
	g->port_proto = r->port_proto;
	g->first_us = r->first_us;
	g->last_us = r->last_us;
	g->in_use = true;
	g->hash = h;
	g->hash_next = gs->buckets[h & gs->bucket_mask];
	gs->buckets[h & gs->bucket_mask] = idx;
	gs->aux[idx - 1].seq = ++gs->seq;
	sn_lru_append(&gs->lru, group_nodes(gs), idx);
	gs->st.groups_active++;
	gs->st.groups_created++;
	return g;
}

/* --- folding a report into a group ----------------------------------- */

/* Adds s to a sorted, distinct, capped list of names; a new name that does
 * not fit sets the list's truncated bit. */
/* Adds s to the sorted names; an empty s only when `empty_ok` (an MQTT client id of ""). */
static bool add_name(char (*names)[SN_GROUP_NAME_LEN], uint8_t *n, const char *s, uint8_t *trunc,
		     uint8_t bit, bool empty_ok)
{
	size_t at = 0;

	if (s[0] == '\0' && !empty_ok)
		return false;
	while (at < *n && strncmp(names[at], s, SN_GROUP_NAME_LEN - 1) < 0)
		at++;
	if (at < *n && strncmp(names[at], s, SN_GROUP_NAME_LEN - 1) == 0)
		return false;
	if (*n >= SN_GROUP_NAMES) {
		*trunc |= bit; /* full: further names are dropped, and said so */
		return false;
	}
	memmove(names[at + 1], names[at], (size_t)(*n - at) * SN_GROUP_NAME_LEN);
	copy_str(names[at], SN_GROUP_NAME_LEN, s);
	(*n)++;
	return true;
}

/* Adds topics[0, n) to into's topics, and their truncated mark. */
static void merge_topic_list(struct sn_meta *into, const char (*topics)[SN_META_STR], size_t n,
			     bool truncated)
{
	for (size_t i = 0; i < n; i++)
		sn_meta_add_topic(into, topics[i], strnlen(topics[i], SN_META_STR));
	if (truncated)
		into->topics_truncated = true;
}

static void merge_topics(struct sn_meta *into, const struct sn_meta *from)
{
	size_t n = from->n_topics < SN_META_TOPICS ? from->n_topics : SN_META_TOPICS;

	merge_topic_list(into, from->topics, n, from->topics_truncated);
}

static bool is_details_conn(const struct sn_groups *gs, const struct sn_group *g,
			    const struct sn_conn_report *r)
{
	const struct sn_group_aux *a = &gs->aux[index_of(gs, g) - 1];

	return a->details_port == r->client_port && a->details_first_us == r->first_us;
}

/* details: the first confirmed connection's meta (kept fresh while it talks),
 * with the topics of every connection merged in. */
static void fold_details(struct sn_groups *gs, struct sn_group *g, const struct sn_conn_report *r)
{
	bool confirmed = r->evidence == SN_EVIDENCE_PAYLOAD || r->evidence == SN_EVIDENCE_TLS;
	bool take = confirmed && (!g->has_details || (r->meta_changed && is_details_conn(gs, g, r)));

	if (take) {
		/* the old details' topics go after the new ones: only they are kept aside */
		size_t n = g->details.n_topics < SN_META_TOPICS ? g->details.n_topics : SN_META_TOPICS;
		bool cut = g->details.topics_truncated;
		char old[SN_META_TOPICS][SN_META_STR];
		struct sn_group_aux *a = &gs->aux[index_of(gs, g) - 1];
		memcpy(old, g->details.topics, n * sizeof old[0]);
		g->details = r->meta;
		merge_topic_list(&g->details, (const char (*)[SN_META_STR])old, n, cut);
		g->has_details = true;
		a->details_port = r->client_port;
		a->details_first_us = r->first_us;
		a->topics_rated = 0; /* new topics, new order: match them all again */
		a->topic_bits = 0;
	}
	merge_topics(&g->details, &r->meta);
	if (g->details.topics_truncated)
		g->truncated |= SN_TRUNC_TOPICS;
	if (r->evidence == SN_EVIDENCE_TLS && r->meta.n_tls_alpn > 0 && r->meta.proto != SN_PROTO_NONE &&
	    g->tls_alpn[0] == '\0')
		copy_str(g->tls_alpn, sizeof(g->tls_alpn), r->meta.tls_alpn[0]);
}

static void fold_mqtt_client(struct sn_groups *gs, struct sn_group *g,
			     const struct sn_conn_report *r)
{
	const char *pattern = NULL;

	if (r->meta.client_id[0])
		pattern = sn_rules_trusted_client(gs->rules, r->meta.client_id);
	if (!pattern) {
		g->untrusted_mqtt++;
		return;
	}
	if (g->trusted_pattern[0] == '\0')
		copy_str(g->trusted_pattern, sizeof(g->trusted_pattern), pattern);
}

/* A connection start for the beacon measure (beacon.h): the ring keeps the
 * last SN_BEACON_STARTS. */
static void fold_start(const struct sn_groups *gs, struct sn_group *g, uint64_t first_us)
{
	const struct sn_config *cfg = gs->rules->cfg;

	g->starts[g->starts_at] = first_us;
	g->starts_at = (uint8_t)((g->starts_at + 1) % SN_BEACON_STARTS);
	if (g->n_starts < SN_BEACON_STARTS)
		g->n_starts++;
	sn_beacon_measure(g->starts, g->n_starts, cfg->rules.beacon_min_gaps,
			  cfg->rules.beacon_max_jitter_pct, &g->beacon);
}

/*
 * Regular client messages inside one connection: the group keeps the first
 * connection found regular, with the figures of its latest report (which
 * may also say it no longer is).
 */
static void fold_messages(const struct sn_groups *gs, struct sn_group *g,
			  const struct sn_conn_report *r)
{
	int k = sn_rules_message_beacon(gs->rules, &r->msgs);
	bool ours = g->msg_beacon.samples && g->msg_flow_id == r->flow_id;

	if (k < 0) {
		if (ours)
			memset(&g->msg_beacon, 0, sizeof g->msg_beacon);
		return;
	}
	if (g->msg_beacon.samples && !ours)
		return;
	g->msg_beacon = r->msgs.rhythm[k];
	g->msg_kind = (enum sn_msg_kind)k;
	g->msg_messages = r->msgs.messages[k];
	g->msg_flow_id = r->flow_id;
}

static void fold(struct sn_groups *gs, struct sn_group *g, const struct sn_conn_report *r)
{
	enum sn_evidence ev = r->evidence;

	if (r->kind == SN_REPORT_OPEN) {
		g->connections++;
		gs->st.connections++;
		if (g->n_flow_ids < SN_GROUP_FLOW_IDS)
			g->flow_ids[g->n_flow_ids++] = r->flow_id;
		else
			g->truncated |= SN_TRUNC_FLOW_IDS;
		if (r->proto == SN_PROTO_MQTT)
			fold_mqtt_client(gs, g, r);
		fold_start(gs, g, r->first_us);
	}
	if (r->first_us < g->first_us)
		g->first_us = r->first_us;
	if (r->last_us > g->last_us)
		g->last_us = r->last_us;
	g->bytes_sent += r->bytes_delta[SN_DIR_C2S];
	g->bytes_received += r->bytes_delta[SN_DIR_S2C];
	if (g->process_pid == 0 && r->process_pid) {
		g->process_pid = r->process_pid;
		copy_str(g->process_exe, sizeof(g->process_exe), r->process_exe);
		copy_str(g->process_user, sizeof(g->process_user), r->process_user);
	}
	if (g->dest_host[0] == '\0' && r->dest_host[0])
		copy_str(g->dest_host, sizeof(g->dest_host), r->dest_host);
	add_name(g->users, &g->n_users, r->meta.user, &g->truncated, SN_TRUNC_USERS, false);
	if (r->proto == SN_PROTO_MQTT)
		add_name(g->client_ids, &g->n_client_ids, r->meta.client_id, &g->truncated,
			 SN_TRUNC_CLIENT_IDS, r->meta.has_client_id);
	if (ev == SN_EVIDENCE_REFUTED) {
		g->any_refuted = true;
		if (!g->any_unrefuted)
			g->evidence = SN_EVIDENCE_REFUTED; /* every connection so far refuted */
	} else {
		if (!g->any_unrefuted || ev > g->evidence)
			g->evidence = ev;
		g->any_unrefuted = true;
	}
	fold_details(gs, g, r);
	fold_messages(gs, g, r);
}

/*
 * Which of the group's topics are command channels (bits over
 * details.topics); only topics added since the last call are matched.
 */
static const char *command_topics(const struct sn_groups *gs, struct sn_group *g, size_t *n)
{
	struct sn_group_aux *a = &gs->aux[index_of(gs, g) - 1];
	const char *first = NULL;
	size_t k = g->details.n_topics < SN_META_TOPICS ? g->details.n_topics : SN_META_TOPICS;

	g->command_topics = 0;
	*n = 0;
	if (!g->has_details)
		return NULL;
	for (size_t i = a->topics_rated; i < k; i++) {
		if (sn_rules_command_topic(gs->rules, g->details.topics[i]))
			a->topic_bits |= (uint16_t)(1u << i);
	}
	a->topics_rated = (uint8_t)k;
	g->command_topics = a->topic_bits;
	for (size_t i = 0; i < k; i++) {
		if (!(a->topic_bits & (1u << i)))
			continue;
		if (!first)
			first = g->details.topics[i];
		(*n)++;
	}
	return first;
}

static void rate(const struct sn_groups *gs, struct sn_group *g)
{
	const struct sn_config *cfg = gs->rules->cfg;
	size_t n_command = 0;
	const char *command = command_topics(gs, g, &n_command);

	g->public_broker = sn_rules_public_broker(gs->rules, g->dest_host) != NULL;
	struct sn_rule_facts f = {
		.proto = g->proto,
		.port_proto = g->port_proto,
		.dest_port = g->dest_port,
		.external = g->external,
		.evidence = g->evidence,
		.any_refuted = g->any_refuted,
		.midstream = g->has_details && g->details.midstream,
		.all_trusted_clients = g->proto == SN_PROTO_MQTT && g->untrusted_mqtt == 0 &&
				       g->trusted_pattern[0] != '\0',
		.trusted_pattern = g->trusted_pattern[0] ? g->trusted_pattern : NULL,
		.process_name = g->process_name[0] ? g->process_name : NULL,
		.tls_alpn = g->tls_alpn[0] ? g->tls_alpn : NULL,
		.ws_path = g->has_details && g->details.carrier == SN_CARRIER_WEBSOCKET
				   ? g->details.ws_path
				   : NULL,
		.malformed = g->has_details && g->details.malformed[0] ? g->details.malformed : NULL,
		.beacon = g->beacon.samples ? &g->beacon : NULL,
		.msg_beacon = g->msg_beacon.samples ? &g->msg_beacon : NULL,
		.msg_kind = g->msg_kind,
		.public_broker = g->public_broker ? g->dest_host : NULL,
		.command_topic = command,
		.n_command_topics = n_command,
		.connections = g->connections,
		.min_connections = cfg->rules.min_connections,
	};

	sn_rules_rate(gs->rules, &f, &g->rating);
	if (g->allowed && g->rating.n_reasons < SN_REASONS_MAX)
		snprintf(g->rating.reasons[g->rating.n_reasons++], SN_REASON_LEN,
			 "not alerted: allowed by %s", g->allowed_by);
}

static bool rule_met(const struct sn_groups *gs, const struct sn_group *g)
{
	const struct sn_config *cfg = gs->rules->cfg;
	uint64_t min = cfg->rules.min_connections ? cfg->rules.min_connections : 1;

	return !g->allowed && g->connections >= min &&
	       g->rating.suspicion >= cfg->rules.min_suspicion;
}

/* The figures an update would show; a change marks the group dirty. */
struct snapshot {
	uint64_t first_us, last_us, connections, sent, received;
	uint8_t n_users, n_client_ids, n_topics, truncated;
	enum sn_evidence evidence;
	bool has_details;
	struct sn_rating rating;
};

static void take_snapshot(const struct sn_group *g, struct snapshot *s)
{
	s->first_us = g->first_us;
	s->last_us = g->last_us;
	s->connections = g->connections;
	s->sent = g->bytes_sent;
	s->received = g->bytes_received;
	s->n_users = g->n_users;
	s->n_client_ids = g->n_client_ids;
	s->n_topics = g->details.n_topics;
	s->truncated = g->truncated;
	s->evidence = g->evidence;
	s->has_details = g->has_details;
	s->rating = g->rating;
}

/* Compared field by field: bytes after a reason's NUL are not part of it. */
static bool rating_equal(const struct sn_rating *a, const struct sn_rating *b)
{
	if (a->suspicion != b->suspicion || a->n_reasons != b->n_reasons)
		return false;
	for (size_t i = 0; i < a->n_reasons && i < SN_REASONS_MAX; i++) {
		if (strncmp(a->reasons[i], b->reasons[i], SN_REASON_LEN) != 0)
			return false;
	}
	return true;
}

static bool snapshot_differs(const struct sn_group *g, const struct snapshot *s)
{
	return s->first_us != g->first_us || s->last_us != g->last_us ||
	       s->connections != g->connections || s->sent != g->bytes_sent ||
	       s->received != g->bytes_received || s->n_users != g->n_users ||
	       s->n_client_ids != g->n_client_ids || s->n_topics != g->details.n_topics ||
	       s->truncated != g->truncated ||
	       s->evidence != g->evidence || s->has_details != g->has_details ||
	       !rating_equal(&s->rating, &g->rating);
}

static void report_flow(struct sn_groups *gs, const struct sn_conn_report *r, bool external)
{
	if (r->kind == SN_REPORT_CLOSE && gs->cfg.flow_events && gs->sink.flow_event)
		gs->sink.flow_event(gs->sink.ctx, r, r->proto, external,
				    sn_rules_message_beacon(gs->rules, &r->msgs), r->ts_us);
}

/* Counts a report in the group of its key: the allowed group when by is set. */
static void route(struct sn_groups *gs, const struct sn_conn_report *r, const char *by)
{
	struct snapshot before;
	bool external = sn_rules_is_external(gs->rules, &r->server);
	struct group_key k = { &r->client, &r->server, r->server_port, r->proto, external,
			       r->process_name, by != NULL };
	uint32_t h = key_hash(gs, &k);
	struct sn_group *g = lookup(gs, &k, h);

	if (!g && r->kind == SN_REPORT_OPEN) {
		g = create(gs, &k, h, r);
		if (by)
			copy_str(g->allowed_by, sizeof(g->allowed_by), by);
	}
	if (by && r->kind == SN_REPORT_OPEN)
		gs->st.allowed++;
	if (g) {
		take_snapshot(g, &before);
		fold(gs, g, r);
		rate(gs, g);
		sn_lru_move(&gs->lru, &gs->lru, group_nodes(gs), index_of(gs, g));
		if (!g->alerted && rule_met(gs, g)) {
			g->alerted = true;
			emit(gs, SN_EV_ALERT, g, r->ts_us);
		} else if (g->alerted && snapshot_differs(g, &before)) {
			mark_dirty(gs, g);
		}
	}
	report_flow(gs, r, external);
}

/* A protocol whose login comes after the handshake that confirmed it. */
static bool user_may_follow(const struct sn_groups *gs, const struct sn_conn_report *r)
{
	return gs->rules->cfg->rules.n_allow_users > 0 && r->meta.user[0] == '\0' &&
	       r->evidence == SN_EVIDENCE_PAYLOAD &&
	       (r->proto == SN_PROTO_AMQP || r->proto == SN_PROTO_XMPP) &&
	       r->kind != SN_REPORT_CLOSE && r->ts_us - r->first_us < SN_ALLOW_HOLD_US;
}

static struct held *held_slot(struct sn_groups *gs, uint64_t flow_id)
{
	/* ids are a worker number (top 16 bits) and a count: fold both in */
	uint64_t x = flow_id ^ (flow_id >> 48) * 0x9e37u;
	return &gs->held[x & (SN_GROUPS_HELD - 1)];
}

/*
 * Ends a held connection's wait: its latest report, as the OPEN it was,
 * goes to the group the allow lists now say, at time ts_us.
 */
static void release(struct sn_groups *gs, struct held *h, uint64_t ts_us)
{
	struct sn_conn_report *open = &gs->held_rep[h - gs->held];

	gs->n_held--;
	open->kind = SN_REPORT_OPEN;
	open->ts_us = ts_us;
	for (int d = 0; d < 2; d++) {
		open->bytes_delta[d] = open->bytes[d];
		open->packets_delta[d] = open->packets[d];
	}
	h->state = sn_rules_allowed(gs->rules, open, h->by, sizeof(h->by)) ? HELD_ALLOWED
									  : HELD_COUNTED;
	route(gs, open, h->state == HELD_ALLOWED ? h->by : NULL);
}

/* A CLOSE (or an UPDATE) of a connection whose wait just ended. */
static void after_release(struct sn_groups *gs, struct held *h, const struct sn_conn_report *r)
{
	if (r->kind != SN_REPORT_CLOSE)
		return;
	struct sn_conn_report last = *r; /* its bytes are in the released OPEN already */
	memset(last.bytes_delta, 0, sizeof(last.bytes_delta));
	memset(last.packets_delta, 0, sizeof(last.packets_delta));
	route(gs, &last, h->state == HELD_ALLOWED ? h->by : NULL);
}

static void hold(struct sn_groups *gs, struct held *h, const struct sn_conn_report *r)
{
	if (h->state == HELD_WAITING) { /* the slot is needed: decide its connection now */
		gs->st.allow_held_evicted++;
		release(gs, h, r->ts_us);
	}
	h->flow_id = r->flow_id;
	h->state = HELD_WAITING;
	h->due_us = r->first_us + SN_ALLOW_HOLD_US;
	gs->held_rep[h - gs->held] = *r;
	gs->n_held++;
	gs->st.allow_held++;
	if (h->due_us < gs->held_due_us || gs->n_held == 1)
		gs->held_due_us = h->due_us;
}

static void report(struct sn_groups *gs, const struct sn_conn_report *r);

/* Every report gets its server's name (dest_host) before anything looks at it. */
void sn_groups_report(void *groups, const struct sn_conn_report *in)
{
	struct sn_groups *gs = groups;

	if (in->dest_host[0] || !sn_rules_server_name(&in->meta)[0]) {
		report(gs, in);
		return;
	}
	gs->named = *in; /* a report is not per packet: one copy is cheap */
	copy_str(gs->named.dest_host, sizeof(gs->named.dest_host), sn_rules_server_name(&in->meta));
	report(gs, &gs->named);
}

static void report(struct sn_groups *gs, const struct sn_conn_report *r)
{
	char by[SN_ALLOWED_BY_LEN];

	if (r->proto == SN_PROTO_NONE)
		return;
	if (r->evidence == SN_EVIDENCE_REFUTED &&
	    gs->rules->cfg->rules.refuted == SN_REFUTED_IGNORE) {
		if (r->kind == SN_REPORT_OPEN)
			gs->st.refuted_ignored++;
		report_flow(gs, r, sn_rules_is_external(gs->rules, &r->server));
		return;
	}
	struct held *h = r->flow_id ? held_slot(gs, r->flow_id) : NULL;
	bool known = h && h->state != HELD_FREE && h->flow_id == r->flow_id;

	if (known && h->state == HELD_WAITING && r->kind != SN_REPORT_OPEN) {
		gs->held_rep[h - gs->held] = *r;
		if (user_may_follow(gs, r))
			return; /* still no user: wait */
		release(gs, h, r->ts_us);
		after_release(gs, h, r);
		return;
	}
	if (known && r->kind != SN_REPORT_OPEN) { /* decided: where its OPEN went */
		route(gs, r, h->state == HELD_ALLOWED ? h->by : NULL);
		return;
	}
	bool allowed = sn_rules_allowed(gs->rules, r, by, sizeof(by));
	if (h && r->kind == SN_REPORT_OPEN) {
		if (!allowed && user_may_follow(gs, r)) {
			hold(gs, h, r);
			return;
		}
		if (h->state == HELD_WAITING) {
			gs->st.allow_held_evicted++;
			release(gs, h, r->ts_us);
		}
		h->flow_id = r->flow_id;
		h->state = allowed ? HELD_ALLOWED : HELD_COUNTED;
		if (allowed)
			copy_str(h->by, sizeof(h->by), by);
	}
	route(gs, r, allowed ? by : NULL);
}

/* Held connections whose time is up are counted as what they showed. */
static void release_due(struct sn_groups *gs, uint64_t now_us, bool all)
{
	uint64_t next = UINT64_MAX;

	if (gs->n_held == 0 || (!all && now_us < gs->held_due_us))
		return;
	for (uint32_t i = 0; i < SN_GROUPS_HELD && gs->n_held > 0; i++) {
		struct held *h = &gs->held[i];
		if (h->state != HELD_WAITING)
			continue;
		if (all || h->due_us <= now_us)
			release(gs, h, now_us);
		else if (h->due_us < next)
			next = h->due_us;
	}
	gs->held_due_us = next;
}

/* --- time ------------------------------------------------------------ */

static void send_due_updates(struct sn_groups *gs, uint64_t now_us)
{
	uint32_t i = gs->dirty_head;

	gs->next_due_us = UINT64_MAX;
	while (i != SN_GROUP_NIL) {
		struct sn_group *g = slot(gs, i);
		i = g->dirty_next;
		if (now_us >= update_due(gs, g)) {
			dirty_unlink(gs, g);
			emit(gs, SN_EV_UPDATE, g, now_us);
		} else if (update_due(gs, g) < gs->next_due_us) {
			gs->next_due_us = update_due(gs, g);
		}
	}
}

void sn_groups_tick(struct sn_groups *gs, uint64_t now_us)
{
	uint64_t window = (uint64_t)gs->cfg.group_window_s * SN_US_PER_S;

	release_due(gs, now_us, false);
	if (gs->dirty_head != SN_GROUP_NIL && now_us >= gs->next_due_us)
		send_due_updates(gs, now_us);
	while (window > 0 && gs->lru.head != SN_GROUP_NIL) { /* window 0: none (replay) */
		struct sn_group *g = slot(gs, gs->lru.head);
		if (now_us < g->last_us || now_us - g->last_us < window)
			break;
		end_group(gs, g, now_us);
		gs->st.groups_expired++;
	}
}

static int by_seq(const void *a, const void *b)
{
	const struct sn_group_aux *x = *(const struct sn_group_aux *const *)a;
	const struct sn_group_aux *y = *(const struct sn_group_aux *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sn_groups_flush(struct sn_groups *gs, uint64_t now_us)
{
	size_t n = 0;

	release_due(gs, now_us, true);
	const struct sn_group_aux **order = calloc(gs->high_water ? gs->high_water : 1,
						     sizeof(*order));

	for (uint32_t i = 1; order && i <= gs->high_water; i++) {
		if (slot(gs, i)->in_use)
			order[n++] = &gs->aux[i - 1];
	}
	if (order)
		qsort(order, n, sizeof(*order), by_seq); /* creation order */
	for (size_t k = 0; k < n; k++)
		end_group(gs, slot(gs, (uint32_t)(order[k] - gs->aux) + 1), now_us);
	free(order);
	while (gs->lru.head != SN_GROUP_NIL) /* only if the order array could not be had */
		end_group(gs, slot(gs, gs->lru.head), now_us);
}

/* --- configuration reload ------------------------------------------- */

void sn_groups_set_rules(struct sn_groups *gs, const struct sn_rules *rules)
{
	gs->rules = rules;
	/* most recently reported first */
	for (uint32_t i = gs->lru.tail; i != SN_GROUP_NIL; i = slot(gs, i)->lru.prev) {
		struct sn_group *g = slot(gs, i);
		struct sn_rating old = g->rating;
		gs->aux[i - 1].topics_rated = 0; /* other command patterns: match every topic again */
		gs->aux[i - 1].topic_bits = 0;
		rate(gs, g);
		if (g->alerted && !rating_equal(&old, &g->rating))
			mark_dirty(gs, g);
	}
}

void sn_groups_stats(const struct sn_groups *gs, struct sn_groups_stats *out)
{
	*out = gs->st;
}

uint32_t sn_groups_longest_chain(const struct sn_groups *gs)
{
	uint32_t longest = 0;

	for (uint32_t b = 0; b <= gs->bucket_mask; b++) {
		uint32_t n = 0;
		for (uint32_t i = gs->buckets[b]; i != SN_GROUP_NIL; i = gs->slots[i - 1].hash_next)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}
