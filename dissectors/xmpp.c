/*
 * xmpp.c - recognises an XMPP stream (RFC 6120) from the bytes its
 * initiating side sends: an optional BOM and XML declaration, then the
 * stream header (section 4.7) whose element is `stream` in the namespace
 * http://etherx.jabber.org/streams.  From the header it keeps to, from,
 * version and the default namespace (jabber:client, jabber:server...);
 * later in the client bytes it notes a STARTTLS request (section 5.4.2.1),
 * the user of a SASL <auth> sent in clear (section 6.4.2): the authcid of
 * PLAIN or the `n=` user of a SCRAM client-first message (RFC 5802
 * section 5.1), and the resource the client asks to bind (section 7.2);
 * in the server bytes, the JID the server bound (<bind><jid>, section 7.6).
 * details.xmpp_user is the SASL user, details.xmpp_jid the bound JID (the
 * server's, else user@to/resource from the client's request).
 *
 * The XML reader is a small subset: a prolog, start tags and their
 * attributes, never a tree.  Entities are not expanded (the kept values
 * are identifiers).  The prolog may hold any amount of white space,
 * comments and processing instructions before the header: each complete
 * item is reported in meta->skip, so the core can drop it and keep reading
 * within its per-connection budget.  Its own bounds (names, values,
 * attributes kept, XMPP_SCAN_MAX bytes, XMPP_ELEMENTS_MAX start tags
 * after the header) cost hostile input a bounded amount of work and never
 * refuse: past them the answer is "need more", and the core's byte bound
 * leaves such a connection undecided.  It refuses on the first byte that
 * cannot start or continue a stream (HTTP, TLS, binary).
 *
 * RFC 7395 (XMPP over WebSocket) opens with an empty <open/> element in
 * the namespace urn:ietf:params:xml:ns:xmpp-framing; it counts as the
 * stream header.
 *
 * A connection the capture joined after its stream header (client_at_start
 * false) is confirmed by a complete, well-formed start tag of a top-level
 * element at offset 0: a stanza (iq, message, presence) carrying to, from,
 * id or type; a stream-management, STARTTLS or SASL element in its own
 * namespace; <stream:features>; or the closing </stream:stream>.  Such a
 * match sets meta->midstream and keeps only the domain of a client
 * stanza's `to` as xmpp_to.
 */
#include <stdio.h>
#include <string.h>

#include "dissector.h"
#include "sasl.h"

#define XMPP_SCAN_MAX 4096     /* client bytes examined */
#define XMPP_NAME_MAX 64       /* longest element or attribute name */
#define XMPP_ATTRS_MAX 64      /* attributes read per start tag */
#define XMPP_ELEMENTS_MAX 64   /* start tags examined after the header */
#define XMPP_AUTH_MAX 1024     /* longest base64 SASL PLAIN response */
#define XMPP_SERVER_ELEMENTS_MAX 256 /* server start tags examined for the bound <jid> */

static const char streams_ns[] = "http://etherx.jabber.org/streams";
static const char tls_ns[] = "urn:ietf:params:xml:ns:xmpp-tls";
static const char framing_ns[] = "urn:ietf:params:xml:ns:xmpp-framing";

struct xml_attr {
	struct sn_cursor name;
	struct sn_cursor value; /* between the quotes, entities unexpanded */
};

struct xml_tag {
	struct sn_cursor name; /* qualified name, e.g. stream:stream */
	struct xml_attr attrs[XMPP_ATTRS_MAX];
	size_t n_attrs;
	bool empty; /* closed by "/>" */
};

static bool is_space(uint8_t b)
{
	return b == ' ' || b == '\t' || b == '\r' || b == '\n';
}

/* XML NameChar, narrowed to ASCII plus any non-ASCII UTF-8 byte. */
static bool is_name_char(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
	       b == '-' || b == '_' || b == '.' || b == ':' || b >= 0x80;
}

static void skip_space(struct sn_cursor *c)
{
	while (sn_cur_remaining(c) > 0 && is_space(sn_cur_peek(c, 0)))
		sn_cur_skip(c, 1);
}

/* True when v holds exactly lit. */
static bool cur_is(const struct sn_cursor *v, const char *lit)
{
	size_t n = strlen(lit);
	return sn_cur_remaining(v) == n && sn_cur_starts_with(v, lit, n);
}

/* True when a and b hold the same bytes. */
static bool cur_same(const struct sn_cursor *a, const struct sn_cursor *b)
{
	struct sn_cursor x = sn_cur_rest(a), y = sn_cur_rest(b);
	if (sn_cur_remaining(&x) != sn_cur_remaining(&y))
		return false;
	while (sn_cur_remaining(&x) > 0) {
		if (sn_cur_u8(&x) != sn_cur_u8(&y))
			return false;
	}
	return sn_cur_ok(&x) && sn_cur_ok(&y);
}

/* Splits a qualified name at its colon; prefix is empty without one. */
static void split_qname(const struct sn_cursor *qname, struct sn_cursor *prefix,
			struct sn_cursor *local)
{
	*local = sn_cur_rest(qname);
	long at = sn_cur_find(local, ':');
	if (at < 0) {
		*prefix = sn_cur_make(NULL, 0);
		return;
	}
	*prefix = sn_cur_sub(local, (size_t)at);
	sn_cur_skip(local, 1);
	*local = sn_cur_rest(local);
}

static enum sn_cur_step read_name(struct sn_cursor *c, struct sn_cursor *name)
{
	size_t have = sn_cur_remaining(c);
	size_t n = 0;

	while (n < have && n <= XMPP_NAME_MAX && is_name_char(sn_cur_peek(c, n)))
		n++;
	if (n > XMPP_NAME_MAX)
		return SN_CUR_SHORT; /* a bound, not a contradiction */
	if (n == have)
		return SN_CUR_SHORT;
	if (n == 0)
		return SN_CUR_BAD;
	*name = sn_cur_sub(c, n);
	return SN_CUR_OK;
}

/* A quoted attribute value (XML 1.0 AttValue): no '<' inside. */
static enum sn_cur_step read_value(struct sn_cursor *c, struct sn_cursor *value)
{
	if (sn_cur_remaining(c) == 0)
		return SN_CUR_SHORT;
	uint8_t quote = sn_cur_u8(c);
	if (quote != '\'' && quote != '"')
		return SN_CUR_BAD;
	long at = sn_cur_find(c, quote);
	if (at < 0)
		return SN_CUR_SHORT;
	*value = sn_cur_sub(c, (size_t)at); /* kept values are cut to their fields */
	sn_cur_skip(c, 1);
	return sn_cur_find(value, '<') < 0 ? SN_CUR_OK : SN_CUR_BAD;
}

static enum sn_cur_step read_attr(struct sn_cursor *c, struct xml_attr *a)
{
	enum sn_cur_step st = read_name(c, &a->name);
	if (st != SN_CUR_OK)
		return st;
	skip_space(c);
	st = sn_cur_eat_literal(c, "=");
	if (st != SN_CUR_OK)
		return st;
	skip_space(c);
	return read_value(c, &a->value);
}

/* The attributes of a start tag up to and including its '>' or "/>". */
static enum sn_cur_step read_attrs(struct sn_cursor *c, struct xml_tag *t)
{
	t->n_attrs = 0;
	t->empty = false;
	for (size_t i = 0; i <= XMPP_ATTRS_MAX; i++) {
		bool spaced = sn_cur_remaining(c) > 0 && is_space(sn_cur_peek(c, 0));
		skip_space(c);
		if (sn_cur_remaining(c) == 0)
			return SN_CUR_SHORT;
		uint8_t b = sn_cur_peek(c, 0);
		if (b == '>') {
			sn_cur_skip(c, 1);
			return SN_CUR_OK;
		}
		if (b == '/') {
			t->empty = true;
			return sn_cur_eat_literal(c, "/>");
		}
		/* Attributes are separated from the name and each other by space. */
		if (!spaced)
			return SN_CUR_BAD;
		if (i >= XMPP_ATTRS_MAX)
			return SN_CUR_SHORT; /* more attributes than kept: a bound */
		enum sn_cur_step st = read_attr(c, &t->attrs[t->n_attrs]);
		if (st != SN_CUR_OK)
			return st;
		t->n_attrs++;
	}
	return SN_CUR_SHORT;
}

/* A start tag, the cursor just past its '<'. */
static enum sn_cur_step read_tag(struct sn_cursor *c, struct xml_tag *t)
{
	enum sn_cur_step st = read_name(c, &t->name);
	return st == SN_CUR_OK ? read_attrs(c, t) : st;
}

static bool tag_attr(const struct xml_tag *t, const char *name, struct sn_cursor *value)
{
	for (size_t i = 0; i < t->n_attrs; i++) {
		if (cur_is(&t->attrs[i].name, name)) {
			*value = t->attrs[i].value;
			return true;
		}
	}
	return false;
}

/* True when some xmlns or xmlns:P attribute of t binds namespace ns. */
static bool tag_declares_ns(const struct xml_tag *t, const char *ns)
{
	for (size_t i = 0; i < t->n_attrs; i++) {
		struct sn_cursor prefix, local;
		split_qname(&t->attrs[i].name, &prefix, &local);
		bool decl = cur_is(&prefix, "xmlns") ||
			    (sn_cur_remaining(&prefix) == 0 && cur_is(&local, "xmlns"));
		if (decl && cur_is(&t->attrs[i].value, ns))
			return true;
	}
	return false;
}

static bool local_name_is(const struct sn_cursor *qname, const char *local_name)
{
	struct sn_cursor prefix, local;
	split_qname(qname, &prefix, &local);
	return cur_is(&local, local_name);
}

/* RFC 6120 section 4.8.1: the stream element's prefix must be bound to the streams namespace. */
static bool stream_ns_bound(const struct xml_tag *t)
{
	struct sn_cursor prefix, local, value;
	split_qname(&t->name, &prefix, &local);
	if (sn_cur_remaining(&prefix) == 0)
		return tag_attr(t, "xmlns", &value) && cur_is(&value, streams_ns);
	for (size_t i = 0; i < t->n_attrs; i++) {
		struct sn_cursor aprefix, alocal;
		split_qname(&t->attrs[i].name, &aprefix, &alocal);
		if (cur_is(&aprefix, "xmlns") && cur_same(&alocal, &prefix) &&
		    cur_is(&t->attrs[i].value, streams_ns))
			return true;
	}
	return false;
}

/* Skips to just past `end`; SHORT when it is not in the bytes left. */
static enum sn_cur_step skip_past(struct sn_cursor *c, const char *end)
{
	size_t n = strlen(end);
	for (;;) {
		long at = sn_cur_find(c, (uint8_t)end[0]);
		if (at < 0)
			return SN_CUR_SHORT;
		sn_cur_skip(c, (size_t)at);
		if (sn_cur_remaining(c) < n)
			return SN_CUR_SHORT;
		if (sn_cur_starts_with(c, end, n)) {
			sn_cur_skip(c, n);
			return SN_CUR_OK;
		}
		sn_cur_skip(c, 1);
	}
}

/*
 * XML 1.0 prolog: an optional byte order mark, then any number of white
 * space runs, comments and processing instructions (the XML declaration
 * is one).  *done is the offset after the last complete item.
 */
static enum sn_cur_step skip_prolog(struct sn_cursor *c, size_t *done)
{
	enum sn_cur_step st = sn_cur_eat_literal(c, "\xEF\xBB\xBF");
	if (st == SN_CUR_SHORT)
		return st;
	for (;;) {
		skip_space(c);
		*done = sn_cur_offset(c);
		if (sn_cur_remaining(c) == 0)
			return SN_CUR_SHORT;
		if (sn_cur_remaining(c) < 4 && sn_cur_peek_is(c, 0, '<') &&
		    (sn_cur_remaining(c) == 1 || sn_cur_peek_is(c, 1, '?') || sn_cur_peek_is(c, 1, '!')))
			return SN_CUR_SHORT; /* "<", "<?", "<!", "<!-" */
		if (sn_cur_starts_with(c, "<?", 2))
			st = skip_past(c, "?>");
		else if (sn_cur_starts_with(c, "<!--", 4))
			st = skip_past(c, "-->");
		else
			return SN_CUR_OK;
		if (st != SN_CUR_OK)
			return st;
	}
}

static enum sn_cur_step read_stream_header(struct sn_cursor *c, struct xml_tag *t)
{
	enum sn_cur_step st = sn_cur_eat_literal(c, "<");
	if (st != SN_CUR_OK)
		return st;
	st = read_name(c, &t->name);
	if (st != SN_CUR_OK)
		return st;
	/* Refuse <html>, SOAP... before reading their attributes. */
	bool open = cur_is(&t->name, "open");
	if (!open && !local_name_is(&t->name, "stream"))
		return SN_CUR_BAD;
	st = read_attrs(c, t);
	if (st != SN_CUR_OK)
		return st;
	if (open) /* RFC 7395 3.3.2 */
		return tag_declares_ns(t, framing_ns) ? SN_CUR_OK : SN_CUR_BAD;
	return !t->empty && stream_ns_bound(t) ? SN_CUR_OK : SN_CUR_BAD;
}

static void put_value(struct sn_cursor v, char *dst, size_t cap, struct sn_meta *m)
{
	sn_cur_string(&v, sn_cur_remaining(&v), dst, cap, &m->truncated);
}

static void header_meta(const struct xml_tag *t, struct sn_meta *m)
{
	for (size_t i = 0; i < t->n_attrs; i++) {
		const struct xml_attr *a = &t->attrs[i];
		if (cur_is(&a->name, "to"))
			put_value(a->value, m->xmpp_to, sizeof m->xmpp_to, m);
		else if (cur_is(&a->name, "from"))
			put_value(a->value, m->xmpp_from, sizeof m->xmpp_from, m);
		else if (cur_is(&a->name, "version"))
			put_value(a->value, m->xmpp_version, sizeof m->xmpp_version, m);
		else if (cur_is(&a->name, "xmlns") && !cur_is(&a->value, streams_ns) &&
			 !cur_is(&a->value, framing_ns))
			put_value(a->value, m->xmpp_ns, sizeof m->xmpp_ns, m);
	}
}

/*
 * The text after a start tag (the cursor just past it) up to the next '<',
 * as a cursor over at most `max` bytes; false until the text is complete.
 */
static bool element_text(const struct sn_cursor *c, size_t max, struct sn_cursor *text)
{
	long at = sn_cur_find(c, '<');
	if (at < 0 || (size_t)at > max)
		return false;
	struct sn_cursor rest = sn_cur_rest(c);
	*text = sn_cur_sub(&rest, (size_t)at);
	return sn_cur_ok(&rest);
}

/*
 * SCRAM client-first message (RFC 5802 section 7): gs2-header
 * ("n,," "y,," or "p=cb,," with an optional "a=authzid" between the
 * commas), then "n=" saslname "," ...; in saslname "=2C" is ',' and
 * "=3D" is '='.
 */
static void scram_user(struct sn_cursor msg, struct sn_meta *m)
{
	for (int commas = 0; commas < 2;) { /* past the gs2-header's two commas */
		if (sn_cur_remaining(&msg) == 0)
			return;
		if (sn_cur_u8(&msg) == ',')
			commas++;
	}
	if (!sn_cur_starts_with(&msg, "n=", 2) || !sn_cur_skip(&msg, 2))
		return;
	char user[SN_META_STR];
	size_t k = 0;
	while (sn_cur_remaining(&msg) > 0 && !sn_cur_peek_is(&msg, 0, ',')) {
		uint8_t b = sn_cur_u8(&msg);
		if (b == '=' && sn_cur_starts_with(&msg, "2C", 2)) {
			b = ',';
			sn_cur_skip(&msg, 2);
		} else if (b == '=' && sn_cur_starts_with(&msg, "3D", 2)) {
			b = '=';
			sn_cur_skip(&msg, 2);
		}
		if (b == 0)
			break;
		if (k + 1 < sizeof user)
			user[k++] = (char)b;
		else
			m->truncated = true;
	}
	sn_meta_set(m, m->user, sizeof m->user, user, k);
}

/*
 * <auth mechanism='PLAIN'>BASE64</auth> or a SCRAM-* mechanism, the
 * cursor just past the start tag.  Until the text is complete the user is
 * simply not known yet.
 */
static void auth_user(struct sn_cursor *c, const struct xml_tag *t, struct sn_meta *m)
{
	struct sn_cursor mech, b64;
	char text[XMPP_AUTH_MAX];
	uint8_t msg[XMPP_AUTH_MAX];

	if (t->empty || m->user[0] || !tag_attr(t, "mechanism", &mech))
		return;
	bool plain = cur_is(&mech, "PLAIN");
	if (!plain && !sn_cur_starts_with(&mech, "SCRAM-", 6))
		return;
	if (!element_text(c, sizeof text, &b64))
		return;
	size_t n_text = sn_cur_remaining(&b64);
	if (!sn_cur_copy(&b64, text, n_text))
		return;
	long n = sn_base64_decode(text, n_text, msg, sizeof msg);
	if (n <= 0)
		return;
	struct sn_cursor dec = sn_cur_make(msg, (size_t)n);
	if (plain)
		sn_sasl_plain_user(&dec, m);
	else
		scram_user(dec, m);
}

/* What the client's elements told beyond struct sn_meta's fields. */
struct xmpp_client {
	char resource[SN_META_STR]; /* the resource it asked to bind */
};

static void note_element(struct sn_cursor *c, const struct xml_tag *t, struct sn_meta *m,
			 struct xmpp_client *x)
{
	struct sn_cursor text;

	if (local_name_is(&t->name, "starttls") && tag_declares_ns(t, tls_ns)) {
		m->has_starttls = true;
		m->starttls = true;
	} else if (local_name_is(&t->name, "auth")) {
		auth_user(c, t, m);
	} else if (local_name_is(&t->name, "resource") && !t->empty && !x->resource[0] &&
		   element_text(c, XMPP_SCAN_MAX, &text)) {
		put_value(text, x->resource, sizeof x->resource, m);
	}
}

/* Start tags the client sent after its stream header, a bounded number. */
static void scan_elements(struct sn_cursor *c, struct sn_meta *m, struct xmpp_client *x)
{
	struct xml_tag t;

	for (size_t i = 0; i < XMPP_ELEMENTS_MAX; i++) {
		long at = sn_cur_find(c, '<');
		if (at < 0 || !sn_cur_skip(c, (size_t)at + 1))
			return;
		enum sn_cur_step st = read_tag(c, &t);
		if (st == SN_CUR_SHORT)
			return;
		if (st == SN_CUR_OK)
			note_element(c, &t, m, x);
		/* SN_CUR_BAD: an end tag or text with '<'; look for the next one. */
	}
}

/* The JID the server bound (<jid> inside <bind>), from the server bytes. */
static void server_jid(const struct sn_stream *s, struct sn_meta *m)
{
	size_t len = s->server_len < XMPP_SCAN_MAX ? s->server_len : XMPP_SCAN_MAX;
	struct sn_cursor c = sn_cur_make(s->server, len);
	struct sn_cursor text;
	struct xml_tag t;

	for (size_t i = 0; i < XMPP_SERVER_ELEMENTS_MAX; i++) {
		long at = sn_cur_find(&c, '<');
		if (at < 0 || !sn_cur_skip(&c, (size_t)at + 1))
			return;
		enum sn_cur_step st = read_tag(&c, &t);
		if (st == SN_CUR_SHORT)
			return;
		if (st == SN_CUR_OK && !t.empty && local_name_is(&t.name, "jid") &&
		    element_text(&c, SN_META_STR * 2, &text) && sn_cur_remaining(&text) > 0) {
			put_value(text, m->xmpp_jid, sizeof m->xmpp_jid, m);
			return;
		}
	}
}

/*
 * The identity fields once both sides are read: xmpp_user is the SASL user;
 * xmpp_jid the server's bound JID, else user@to/resource as the client asked;
 * Users falls back on the bound JID's local part.
 */
static void identity(const struct sn_stream *s, struct sn_meta *m, const struct xmpp_client *x)
{
	sn_meta_set(m, m->xmpp_user, sizeof m->xmpp_user, m->user, strlen(m->user));
	if (s->server)
		server_jid(s, m);
	if (!m->xmpp_jid[0] && m->user[0] && m->xmpp_to[0] && x->resource[0]) {
		char jid[3 * SN_META_STR + 2];
		int n = snprintf(jid, sizeof jid, "%s@%s/%s", m->user, m->xmpp_to, x->resource);
		if (n > 0)
			sn_meta_set(m, m->xmpp_jid, sizeof m->xmpp_jid, jid, (size_t)n);
	}
	if (!m->user[0] && m->xmpp_jid[0]) {
		const char *at = strchr(m->xmpp_jid, '@');
		if (at)
			sn_meta_set(m, m->user, sizeof m->user, m->xmpp_jid,
				    (size_t)(at - m->xmpp_jid));
	}
}

/* ---- mid-stream: a connection picked up after its stream header --------- */

static const char sasl_ns[] = "urn:ietf:params:xml:ns:xmpp-sasl";
static const char sm_ns[] = "urn:xmpp:sm:3";
static const char stream_end[] = "</stream:stream>";

/* A top-level element a client or server sends inside a stream, and its namespace. */
struct xmpp_top {
	const char *name;
	const char *ns;    /* required xmlns value; NULL: stanza, any jabber:* default */
};

static const struct xmpp_top xmpp_tops[] = {
	{ "iq", NULL },        { "message", NULL },   { "presence", NULL },
	{ "r", sm_ns },        { "a", sm_ns },        { "enable", sm_ns },
	{ "enabled", sm_ns },  { "starttls", tls_ns }, { "proceed", tls_ns },
	{ "auth", sasl_ns },   { "success", sasl_ns }, { "stream:features", streams_ns },
};

#define XMPP_N_TOPS (sizeof xmpp_tops / sizeof xmpp_tops[0])

static const struct xmpp_top *top_element(const struct sn_cursor *name)
{
	for (size_t i = 0; i < XMPP_N_TOPS; i++)
		if (cur_is(name, xmpp_tops[i].name))
			return &xmpp_tops[i];
	return NULL;
}

/*
 * A stanza (RFC 6120 section 8) is addressed or identified: it carries to,
 * from, id or type, and its namespace, if declared, is a jabber:* one.
 */
static bool stanza_ok(const struct xml_tag *t)
{
	struct sn_cursor ns;
	static const char *const keys[] = { "to", "from", "id", "type" };
	bool keyed = false;

	if (tag_attr(t, "xmlns", &ns) && !sn_cur_starts_with(&ns, "jabber:", 7))
		return false;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		keyed |= tag_attr(t, keys[i], &ns);
	return keyed;
}

static bool top_ok(const struct xmpp_top *top, const struct xml_tag *t)
{
	struct sn_cursor ns;

	if (!top->ns)
		return stanza_ok(t);
	if (top->ns == streams_ns)
		return true; /* the stream: prefix was bound by the header we missed */
	return tag_attr(t, "xmlns", &ns) && cur_is(&ns, top->ns);
}

/* The first element of buf, after optional whitespace. */
static enum sn_cur_step read_top(struct sn_cursor *c, struct xml_tag *t, bool *end)
{
	skip_space(c);
	enum sn_cur_step st = sn_cur_eat_literal(c, stream_end);
	*end = st == SN_CUR_OK;
	if (st != SN_CUR_BAD)
		return st; /* the closing tag, or a prefix of it */
	st = sn_cur_eat_literal(c, "<");
	if (st != SN_CUR_OK)
		return st;
	st = read_name(c, &t->name);
	if (st != SN_CUR_OK)
		return st;
	const struct xmpp_top *top = top_element(&t->name);
	if (!top)
		return SN_CUR_BAD;
	st = read_attrs(c, t);
	if (st != SN_CUR_OK)
		return st;
	return top_ok(top, t) ? SN_CUR_OK : SN_CUR_BAD;
}

/* A host name as a JID domainpart is written in clear text: letters, digits, '-', '.'. */
static bool is_domain(const struct sn_cursor *d)
{
	struct sn_cursor c = sn_cur_rest(d);

	if (sn_cur_remaining(&c) == 0)
		return false;
	while (sn_cur_remaining(&c) > 0) {
		uint8_t b = sn_cur_u8(&c);
		bool ok = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
			  b == '-' || b == '.';
		if (!ok)
			return false;
	}
	return true;
}

/*
 * The domain of the JID a client stanza is sent to (RFC 7622 section 3.2:
 * after any '@', before any '/'), kept only when it is a plain host name.
 */
static void stanza_to_domain(const struct xml_tag *t, struct sn_meta *m)
{
	struct sn_cursor to, domain;

	if (!tag_attr(t, "to", &to))
		return;
	long slash = sn_cur_find(&to, '/');
	domain = sn_cur_sub(&to, slash < 0 ? sn_cur_remaining(&to) : (size_t)slash);
	long at = sn_cur_find(&domain, '@');
	if (at >= 0)
		sn_cur_skip(&domain, (size_t)at + 1);
	domain = sn_cur_rest(&domain);
	if (is_domain(&domain))
		put_value(domain, m->xmpp_to, sizeof m->xmpp_to, m);
}

/*
 * The client's bytes (the server's when the client sent none) start with
 * a complete top-level element of a stream already under way.
 */
static enum sn_cur_step xmpp_midstream(const struct sn_stream *s, struct sn_meta *out)
{
	bool client = s->client_len > 0;
	size_t n = client ? s->client_len : s->server_len;
	struct sn_cursor c = sn_cur_make(client ? s->client : s->server,
					 n < XMPP_SCAN_MAX ? n : XMPP_SCAN_MAX);
	struct xml_tag t;
	bool end;

	enum sn_cur_step st = read_top(&c, &t, &end);
	if (st != SN_CUR_OK)
		return st;
	out->proto = SN_PROTO_XMPP;
	out->midstream = true;
	if (client && !end && !top_element(&t.name)->ns)
		stanza_to_domain(&t, out);
	return SN_CUR_OK;
}

enum sn_verdict sn_diss_xmpp(const struct sn_stream *s, struct sn_meta *out)
{
	size_t len = s->client_len < XMPP_SCAN_MAX ? s->client_len : XMPP_SCAN_MAX;
	struct sn_cursor c = sn_cur_make(s->client, len);
	struct xml_tag header;
	size_t prolog_done = 0;

	enum sn_cur_step st = skip_prolog(&c, &prolog_done);
	if (st == SN_CUR_OK)
		st = read_stream_header(&c, &header);
	if (st != SN_CUR_OK && !s->client_at_start) {
		enum sn_cur_step mid = xmpp_midstream(s, out);
		if (mid == SN_CUR_OK)
			return SN_MATCH;
		memset(out, 0, sizeof *out);
		if (mid == SN_CUR_SHORT)
			st = SN_CUR_SHORT;
	}
	if (st == SN_CUR_SHORT && !s->final) {
		if (s->client_at_start)
			out->skip = (uint32_t)prolog_done;
		return SN_NEED_MORE;
	}
	if (st != SN_CUR_OK)
		return SN_NO_MATCH;

	out->proto = SN_PROTO_XMPP;
	header_meta(&header, out);
	struct xmpp_client x = { .resource = "" };
	scan_elements(&c, out, &x);
	identity(s, out, &x);
	return SN_MATCH;
}
