/*
 * test_xmpp.c - dissectors/xmpp.c: stream headers from real captures and
 * hand-made streams (prefixes, quotes, STARTTLS, SASL PLAIN), refusals of
 * other traffic, every truncation of every sample, and the scan bounds.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissector.h"
#include "testutil.h"

#define SAMPLE_CAP 65536

static uint8_t sample[SAMPLE_CAP];

/* Runs the dissector over an exact-size heap copy, so ASan sees over-reads. */
static enum sn_verdict run_ex(const void *bytes, size_t n, bool at_start, bool final,
			      struct sn_meta *m)
{
	return sn_test_dissect(sn_diss_xmpp, bytes, n, NULL, 0, at_start, final, m);
}

static enum sn_verdict run(const void *bytes, size_t n, struct sn_meta *m)
{
	return run_ex(bytes, n, true, false, m);
}

static enum sn_verdict run_str(const char *str, struct sn_meta *m)
{
	return run(str, strlen(str), m);
}

static size_t load(const char *pcap, uint16_t port)
{
	return sn_test_load_client(pcap, port, sample, sizeof sample);
}

/* Offset just past the first '>' that follows "stream" (the header's end). */
static size_t header_end(const uint8_t *b, size_t n)
{
	const uint8_t *st = memmem(b, n, "stream", 6);
	ck_assert_ptr_nonnull(st);
	const uint8_t *gt = memchr(st, '>', n - (size_t)(st - b));
	ck_assert_ptr_nonnull(gt);
	return (size_t)(gt - b) + 1;
}

/*
 * Every prefix shorter than the header is NEED_MORE (NO_MATCH when final);
 * every longer one is MATCH with a user that is either absent or complete.
 */
static void check_truncations(const uint8_t *b, size_t n, const char *user)
{
	struct sn_meta m;
	size_t end = header_end(b, n);

	for (size_t k = 0; k < end; k++) {
		ck_assert_int_eq(run_ex(b, k, true, false, &m), SN_NEED_MORE);
		ck_assert_int_eq(run_ex(b, k, true, true, &m), SN_NO_MATCH);
	}
	for (size_t k = end; k <= n; k++) {
		ck_assert_int_eq(run(b, k, &m), SN_MATCH);
		ck_assert_msg(m.user[0] == '\0' || strcmp(m.user, user) == 0, "user '%s'", m.user);
	}
}

/* ---- real captures ---- */

START_TEST(art_b_stream_header)
{
	struct sn_meta m;
	size_t n = load("art-b-xmpp-stream-header-nc-5222.pcap", 5222);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_int_eq(m.proto, SN_PROTO_XMPP);
	ck_assert_str_eq(m.xmpp_to, "localhost");
	ck_assert_str_eq(m.xmpp_from, "");
	ck_assert_str_eq(m.xmpp_ns, "jabber:client");
	ck_assert_str_eq(m.xmpp_version, "1.0");
	ck_assert(!m.has_starttls);
	ck_assert_str_eq(m.user, "");
	check_truncations(sample, n, "");
}
END_TEST

START_TEST(oneshot_stream_header)
{
	struct sn_meta m;
	size_t n = load("oneshot-xmpp-nc-5222.pcap", 5222);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_str_eq(m.xmpp_to, "localhost");
	ck_assert_str_eq(m.xmpp_ns, "jabber:client");
	check_truncations(sample, n, "");
}
END_TEST

/* EXPECTED.tsv: SASL SCRAM-SHA-1; bound JID=implant01@localhost/host1,... */
START_TEST(slixmpp_scram_login_user_and_jid)
{
	struct sn_meta m;
	size_t n = load("xmpp-slixmpp-login-plaintext-5222.pcap", 5222);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_str_eq(m.xmpp_to, "localhost");
	ck_assert_str_eq(m.xmpp_ns, "jabber:client");
	ck_assert_str_eq(m.xmpp_version, "1.0");
	ck_assert_str_eq(m.user, "implant01");
	ck_assert_str_eq(m.xmpp_user, "implant01");
	/* the client bytes alone: the JID as the client asked for it */
	ck_assert_str_eq(m.xmpp_jid, "implant01@localhost/host1");
	ck_assert(!m.starttls);
	check_truncations(sample, n, "implant01");
}
END_TEST

START_TEST(s2s_header_from_and_server_ns)
{
	struct sn_meta m;
	size_t n = load("xmpp-s2s-header-nc-5269.pcap", 5269);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_str_eq(m.xmpp_from, "c2.test");
	ck_assert_str_eq(m.xmpp_to, "localhost");
	ck_assert_str_eq(m.xmpp_ns, "jabber:server");
	check_truncations(sample, n, "");
}
END_TEST

START_TEST(nonstandard_port_8222)
{
	struct sn_meta m;
	size_t n = load("xmpp-nonstd-port-8222-slixmpp.pcap", 8222);
	ck_assert_int_eq(run(sample, n, &m), SN_MATCH);
	ck_assert_str_eq(m.xmpp_to, "localhost");
	ck_assert_str_eq(m.xmpp_user, "implant01");
	ck_assert_str_eq(m.xmpp_jid, "implant01@localhost/alt1");
	check_truncations(sample, n, "implant01");
}
END_TEST

/* ---- hand-made streams ---- */

/* RFC 6120 section 5.4.2.1 client request, double quotes, declaration with encoding. */
static const char starttls_stream[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<stream:stream from=\"juliet@im.example.com\" to=\"im.example.com\" version=\"1.0\" "
	"xml:lang=\"en\" xmlns=\"jabber:client\" "
	"xmlns:stream=\"http://etherx.jabber.org/streams\">\n"
	"<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>";

START_TEST(starttls_request)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str(starttls_stream, &m), SN_MATCH);
	ck_assert(m.has_starttls);
	ck_assert(m.starttls);
	ck_assert_str_eq(m.xmpp_from, "juliet@im.example.com");
	ck_assert_str_eq(m.xmpp_to, "im.example.com");
	check_truncations((const uint8_t *)starttls_stream, strlen(starttls_stream), "");
}
END_TEST

START_TEST(starttls_prefixed_element)
{
	struct sn_meta m;
	const char *s = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='a'>"
			"<t:starttls xmlns:t='urn:ietf:params:xml:ns:xmpp-tls'/>";
	ck_assert_int_eq(run_str(s, &m), SN_MATCH);
	ck_assert(m.starttls);
}
END_TEST

START_TEST(starttls_wrong_namespace_ignored)
{
	struct sn_meta m;
	const char *s = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='a'>"
			"<starttls xmlns='urn:example:not-tls'/>";
	ck_assert_int_eq(run_str(s, &m), SN_MATCH);
	ck_assert(!m.has_starttls);
	ck_assert(!m.starttls);
}
END_TEST

/* base64("\0implant01\0secret") */
static const char plain_stream[] =
	"<?xml version='1.0'?><stream:stream to='c2.example' xmlns='jabber:client' "
	"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
	"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
	"AGltcGxhbnQwMQBzZWNyZXQ=</auth>";

START_TEST(sasl_plain_user)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str(plain_stream, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "implant01");
	ck_assert_str_eq(m.xmpp_to, "c2.example");
	check_truncations((const uint8_t *)plain_stream, strlen(plain_stream), "implant01");
}
END_TEST

START_TEST(sasl_plain_authzid_and_authcid)
{
	struct sn_meta m;
	/* base64("boss\0agent7\0pw"): the authcid is the user */
	const char *s = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
			"<auth mechanism=\"PLAIN\" xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">"
			"Ym9zcwBhZ2VudDcAcHc=</auth>";
	ck_assert_int_eq(run_str(s, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "agent7");
}
END_TEST

START_TEST(sasl_plain_empty_authcid_uses_authzid)
{
	struct sn_meta m;
	/* base64("admin\0\0pw") */
	const char *s = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
			"<auth mechanism='PLAIN'>YWRtaW4AAHB3</auth>";
	ck_assert_int_eq(run_str(s, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "admin");
}
END_TEST

START_TEST(sasl_plain_malformed_gives_no_user)
{
	struct sn_meta m;
	/* base64("nonul"), then text that is not base64 at all */
	const char *s1 = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
			 "<auth mechanism='PLAIN'>bm9udWw=</auth>";
	const char *s2 = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
			 "<auth mechanism='PLAIN'>%%%not base64%%%</auth>";
	const char *s3 = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
			 "<auth mechanism='PLAIN'/>";
	ck_assert_int_eq(run_str(s1, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
	ck_assert_int_eq(run_str(s2, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
	ck_assert_int_eq(run_str(s3, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(sasl_other_mechanism_ignored)
{
	struct sn_meta m;
	const char *s = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
			"<auth mechanism='SCRAM-SHA-1'>AGltcGxhbnQwMQBzZWNyZXQ=</auth>";
	ck_assert_int_eq(run_str(s, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(other_prefix_component_ns)
{
	struct sn_meta m;
	const char *s = "<s:stream xmlns:s=\"http://etherx.jabber.org/streams\" "
			"xmlns=\"jabber:component:accept\" to=\"comp.example\">";
	ck_assert_int_eq(run_str(s, &m), SN_MATCH);
	ck_assert_str_eq(m.xmpp_ns, "jabber:component:accept");
	ck_assert_str_eq(m.xmpp_to, "comp.example");
	check_truncations((const uint8_t *)s, strlen(s), "");
}
END_TEST

START_TEST(unprefixed_stream_element)
{
	struct sn_meta m;
	const char *s = "<stream xmlns='http://etherx.jabber.org/streams' to='x.example' version='1.0'>";
	ck_assert_int_eq(run_str(s, &m), SN_MATCH);
	ck_assert_str_eq(m.xmpp_to, "x.example");
	ck_assert_str_eq(m.xmpp_ns, "");
}
END_TEST

START_TEST(bom_whitespace_and_spaced_attributes)
{
	struct sn_meta m;
	const char *s = "\xEF\xBB\xBF \r\n<?xml version='1.0'?>\n\t<stream:stream\n  to = 'a.example'"
			"\n  xmlns:stream = \"http://etherx.jabber.org/streams\" >";
	ck_assert_int_eq(run_str(s, &m), SN_MATCH);
	ck_assert_str_eq(m.xmpp_to, "a.example");
	ck_assert_int_eq(run_str("\xEF", &m), SN_NEED_MORE);
	ck_assert_int_eq(run_str("\xEF\xBB", &m), SN_NEED_MORE);
	ck_assert_int_eq(run_str("\xEF\xBC", &m), SN_NO_MATCH);
}
END_TEST

START_TEST(client_not_at_start)
{
	struct sn_meta m;
	const char *hdr = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='a'>";
	const char *mid = "ce></presence><message to='x'>";
	ck_assert_int_eq(run_ex(hdr, strlen(hdr), false, false, &m), SN_MATCH);
	ck_assert_int_eq(run_ex(mid, strlen(mid), false, false, &m), SN_NO_MATCH);
}
END_TEST

/* ---- refusals ---- */

START_TEST(namespace_must_be_bound)
{
	struct sn_meta m;
	/* prefix never declared */
	ck_assert_int_eq(run_str("<stream:stream xmlns='jabber:client' to='a'>", &m), SN_NO_MATCH);
	/* prefix bound to another namespace */
	ck_assert_int_eq(run_str("<stream:stream xmlns:stream='urn:other' to='a'>", &m), SN_NO_MATCH);
	/* the streams namespace bound, but to another prefix */
	ck_assert_int_eq(run_str("<x:stream xmlns:stream='http://etherx.jabber.org/streams'>", &m),
			 SN_NO_MATCH);
	/* unprefixed element in the client namespace */
	ck_assert_int_eq(run_str("<stream xmlns='jabber:client'>", &m), SN_NO_MATCH);
	/* a self-closed stream is no stream */
	ck_assert_int_eq(run_str("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>", &m),
			 SN_NO_MATCH);
}
END_TEST

START_TEST(http_refused_on_first_byte)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("G", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("POST /http-bind HTTP/1.1\r\n", &m), SN_NO_MATCH);
}
END_TEST

START_TEST(other_xml_refused)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("<html>", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("<html ", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("<!DOCTYPE html>", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("<?xml version='1.0'?><soap:Envelope xmlns:soap='x'>", &m),
			 SN_NO_MATCH);
	ck_assert_int_eq(run_str("<?xml-stylesheet href='a'?>", &m), SN_NEED_MORE); /* a PI: prolog */
	ck_assert_int_eq(run_str("<?xml-stylesheet href='a'?><html>", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("<streamer xmlns='http://etherx.jabber.org/streams'>", &m),
			 SN_NO_MATCH);
	ck_assert_int_eq(run_str("<h", &m), SN_NEED_MORE);
}
END_TEST

START_TEST(tls_and_random_refused)
{
	struct sn_meta m;
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03 };
	ck_assert_int_eq(run(hello, sizeof hello, &m), SN_NO_MATCH);

	uint8_t rnd[512];
	uint32_t x = 12345;
	for (int round = 0; round < 64; round++) {
		for (size_t i = 0; i < sizeof rnd; i++) {
			x = x * 1103515245u + 12345u;
			rnd[i] = (uint8_t)(x >> 16);
		}
		ck_assert_int_ne(run(rnd, sizeof rnd, &m), SN_MATCH);
	}
	size_t n = load("neg-random-bytes-5672.pcap", 5672);
	ck_assert_int_eq(run(sample, n, &m), SN_NO_MATCH);
}
END_TEST

START_TEST(empty_and_final)
{
	struct sn_meta m;
	ck_assert_int_eq(run_ex("", 0, true, false, &m), SN_NEED_MORE);
	ck_assert_int_eq(run_ex("", 0, true, true, &m), SN_NO_MATCH);
	ck_assert_int_eq(run_ex(NULL, 0, true, false, &m), SN_NEED_MORE);
}
END_TEST

/* ---- bounds ---- */

START_TEST(long_value_is_read)
{
	struct sn_meta m;
	char buf[2048];
	int n = snprintf(buf, sizeof buf, "<stream:stream to='");
	memset(buf + n, 'a', 600);
	buf[n + 600] = '\0';
	ck_assert_int_eq(run_str(buf, &m), SN_NEED_MORE);
	strcat(buf, "' xmlns:stream='http://etherx.jabber.org/streams'>");
	ck_assert_int_eq(run_str(buf, &m), SN_MATCH);
	ck_assert_uint_eq(strlen(m.xmpp_to), SN_META_STR - 1);
	ck_assert(m.truncated);
}
END_TEST

START_TEST(long_kept_value_truncated)
{
	struct sn_meta m;
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "<stream:stream to='");
	memset(buf + n, 'a', 300);
	snprintf(buf + n + 300, sizeof buf - (size_t)n - 300,
		 "' xmlns:stream='http://etherx.jabber.org/streams'>");
	ck_assert_int_eq(run_str(buf, &m), SN_MATCH);
	ck_assert_uint_eq(strlen(m.xmpp_to), SN_META_STR - 1);
	ck_assert(m.truncated);
}
END_TEST

/* 63 attributes after xmlns are read; past 64 the bound leaves it undecided. */
START_TEST(many_attributes_are_a_bound_not_a_refusal)
{
	struct sn_meta m;
	static char buf[4096];
	strcpy(buf, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'");
	for (int i = 0; i < 63; i++) {
		char a[32];
		snprintf(a, sizeof a, " a%d='v'", i);
		strcat(buf, a);
	}
	ck_assert_int_eq(run_str(strcat(buf, " to='x'>") - 0, &m), SN_NEED_MORE);
	buf[strlen(buf) - 8] = '\0';
	strcat(buf, ">");
	ck_assert_int_eq(run_str(buf, &m), SN_MATCH);
}
END_TEST

/* A prolog is never refused for its length: what is done with is reported in skip. */
START_TEST(long_prolog_is_reported_as_done_with)
{
	struct sn_meta m;
	static uint8_t ws[8192];
	memset(ws, ' ', sizeof ws);
	ck_assert_int_eq(run(ws, 1000, &m), SN_NEED_MORE);
	ck_assert_uint_eq(m.skip, 1000);
	ck_assert_int_eq(run(ws, sizeof ws, &m), SN_NEED_MORE);
	/* an unterminated declaration: nothing done with yet */
	static uint8_t decl[600];
	memset(decl, 'v', sizeof decl);
	memcpy(decl, "<?xml ", 6);
	ck_assert_int_eq(run(decl, 100, &m), SN_NEED_MORE);
	ck_assert_uint_eq(m.skip, 0);
	ck_assert_int_eq(run(decl, sizeof decl, &m), SN_NEED_MORE);
	ck_assert_uint_eq(m.skip, 0);
}
END_TEST

/* A 345-byte declaration, comments and processing instructions before the header. */
START_TEST(declaration_comments_and_instructions)
{
	struct sn_meta m;
	static char buf[2048];
	strcpy(buf, "<?xml version='1.0' encoding='UTF-8' ");
	size_t n = strlen(buf);
	memset(buf + n, ' ', 345 - n - 2);
	strcpy(buf + 343, "?>");
	size_t decl = strlen(buf);
	strcat(buf, "\n<!-- a comment with <tags> and -- dashes -->\n<?pi data?>  ");
	size_t done = strlen(buf);
	strcat(buf, "<stream:stream to='c2.example' xmlns='jabber:client' "
		    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>");
	ck_assert_uint_eq(decl, 345);
	ck_assert_int_eq(run_str(buf, &m), SN_MATCH);
	ck_assert_str_eq(m.xmpp_to, "c2.example");
	ck_assert_int_eq(run(buf, done + 3, &m), SN_NEED_MORE);
	ck_assert_uint_eq(m.skip, done);
	ck_assert_int_eq(run(buf, decl + 3, &m), SN_NEED_MORE);
	ck_assert_uint_eq(m.skip, decl + 1); /* the declaration and the newline after it */
}
END_TEST

/* RFC 7395: XMPP over WebSocket opens with <open/> in the framing namespace. */
START_TEST(websocket_framing_open)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='c2.example' version='1.0'/>",
				 &m),
			 SN_MATCH);
	ck_assert_str_eq(m.xmpp_to, "c2.example");
	ck_assert_str_eq(m.xmpp_ns, "");
	ck_assert_int_eq(run_str("<open xmlns='urn:example:other'/>", &m), SN_NO_MATCH);
}
END_TEST

START_TEST(long_name_is_a_bound)
{
	struct sn_meta m;
	char buf[128] = "<";
	memset(buf + 1, 'n', 100);
	buf[101] = '\0';
	ck_assert_int_eq(run_str(buf, &m), SN_NEED_MORE); /* a bound: undecided, not refuted */
}
END_TEST

START_TEST(attributes_need_separating_space)
{
	struct sn_meta m;
	ck_assert_int_eq(run_str("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'"
				 "to='a'>", &m),
			 SN_NO_MATCH);
	ck_assert_int_eq(run_str("<stream:stream to=a>", &m), SN_NO_MATCH);
	ck_assert_int_eq(run_str("<stream:stream to='a<b'>", &m), SN_NO_MATCH);
}
END_TEST

START_TEST(many_elements_after_header_bounded)
{
	struct sn_meta m;
	static char buf[4096];
	strcpy(buf, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>");
	while (strlen(buf) + 8 < sizeof buf)
		strcat(buf, "<a/></a>");
	ck_assert_int_eq(run_str(buf, &m), SN_MATCH);
	ck_assert(!m.starttls);
}
END_TEST

/* ---- mid-stream: no stream header in the buffer ---- */

/* Client bytes (or, with `server`, only server bytes) of a stream joined mid-way. */
static enum sn_verdict run_mid(const char *text, bool server, bool final, struct sn_meta *m)
{
	size_t n = strlen(text);
	uint8_t *copy = malloc(n ? n : 1);
	ck_assert(copy);
	if (n)
		memcpy(copy, text, n);
	struct sn_stream s = { .client_at_start = false, .final = final };
	if (server) {
		s.server = copy;
		s.server_len = n;
	} else {
		s.client = copy;
		s.client_len = n;
	}
	memset(m, 0, sizeof *m);
	enum sn_verdict v = sn_diss_xmpp(&s, m);
	free(copy);
	return v;
}

static void expect_mid(const char *text, const char *to)
{
	struct sn_meta m;
	ck_assert_msg(run_mid(text, false, false, &m) == SN_MATCH, "%s", text);
	ck_assert_int_eq(m.proto, SN_PROTO_XMPP);
	ck_assert(m.midstream);
	ck_assert_str_eq(m.xmpp_to, to);
	ck_assert_str_eq(m.xmpp_ns, "");
	ck_assert_str_eq(m.xmpp_version, "");
}

static void expect_mid_refused(const char *text)
{
	struct sn_meta m;
	ck_assert_msg(run_mid(text, false, true, &m) == SN_NO_MATCH, "%s", text);
	ck_assert_int_eq(m.proto, SN_PROTO_NONE);
	ck_assert_str_eq(m.xmpp_to, "");
}

/* Stanzas as a client sends them once the stream is open (RFC 6120 section 8). */
START_TEST(mid_stanzas)
{
	expect_mid("<iq type='set' id='ping1' to='chat.example.net'><command "
		   "xmlns='http://jabber.org/protocol/commands' node='ping'/></iq>",
		   "chat.example.net");
	expect_mid("<presence to='room@conference.example.net/nick'><x "
		   "xmlns='http://jabber.org/protocol/muc'/></presence>",
		   "conference.example.net");
	expect_mid("<message to=\"bob@example.org/home\" type=\"chat\"><body>hi</body></message>",
		   "example.org");
	expect_mid("<iq xmlns='jabber:client' type='get' id='r1'><query "
		   "xmlns='jabber:iq:roster'/></iq>", "");
	expect_mid("\r\n  <presence type='unavailable'/>", "");
	expect_mid("<iq type='get' id='v1' to='a b'>", ""); /* not a host name: not kept */
}
END_TEST

/* Stream-level elements: close, stream management, STARTTLS, SASL, features. */
START_TEST(mid_stream_elements)
{
	expect_mid("</stream:stream>", "");
	expect_mid("<r xmlns='urn:xmpp:sm:3'/>", "");
	expect_mid("<a xmlns='urn:xmpp:sm:3' h='12'/>", "");
	expect_mid("<enable xmlns='urn:xmpp:sm:3' resume='true'/>", "");
	expect_mid("<enabled xmlns='urn:xmpp:sm:3' id='s1'/>", "");
	expect_mid("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "");
	expect_mid("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "");
	expect_mid("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHg=</auth>",
		   "");
	expect_mid("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "");
	expect_mid("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>", "");
}
END_TEST

/* Close, but not well formed or not in the right namespace. */
START_TEST(mid_refusals)
{
	expect_mid_refused("<message>hi</message>");        /* no to/from/id/type */
	expect_mid_refused("<presence/>");
	expect_mid_refused("<iq type=get id=1>");            /* unquoted */
	expect_mid_refused("<iq type='get'id='1'>");         /* no space between */
	expect_mid_refused("<iq xmlns='urn:other' id='1'>"); /* not a jabber namespace */
	expect_mid_refused("<iqx type='get'>");
	expect_mid_refused("<r/>");                          /* sm without its namespace */
	expect_mid_refused("<a xmlns='urn:xmpp:sm:2' h='1'/>");
	expect_mid_refused("<starttls/>");
	expect_mid_refused("<auth mechanism='PLAIN'>x</auth>");
	expect_mid_refused("<html><body>");
	expect_mid_refused("hello <iq type='get'/>");        /* text before the element */
	expect_mid_refused("</stream:streams>");
	expect_mid_refused("HTTP/1.1 200 OK\r\n\r\n<iq type='get'/>");
	expect_mid_refused("{\"id\": 1}");
}
END_TEST

/* Until the start tag is complete: NEED_MORE, then NO_MATCH once final. */
START_TEST(mid_prefixes)
{
	static const char iq[] = "<iq type='get' id='a1' to='x.example'>";
	char part[sizeof iq];
	struct sn_meta m;

	for (size_t k = 0; k < sizeof iq - 1; k++) {
		memcpy(part, iq, k);
		part[k] = '\0';
		ck_assert_msg(run_mid(part, false, false, &m) == SN_NEED_MORE, "prefix %zu", k);
		ck_assert_msg(run_mid(part, false, true, &m) == SN_NO_MATCH, "final prefix %zu", k);
	}
	ck_assert_int_eq(run_mid(iq, false, false, &m), SN_MATCH);
	ck_assert_str_eq(m.xmpp_to, "x.example");
}
END_TEST

/* A stream seen from its start must open with the stream header. */
START_TEST(mid_needs_not_at_start)
{
	static const char iq[] = "<iq type='get' id='a1'/>";
	struct sn_meta m;

	ck_assert_int_eq(run_ex(iq, sizeof iq - 1, true, true, &m), SN_NO_MATCH);
	ck_assert_int_eq(run_ex(iq, sizeof iq - 1, false, true, &m), SN_MATCH);
	ck_assert(m.midstream);
}
END_TEST

/* Only the server spoke: its stanza confirms, its `to` (the client) is not kept. */
START_TEST(mid_server_only)
{
	struct sn_meta m;

	ck_assert_int_eq(run_mid("<iq to='tom@example.net/pc' from='example.net' type='result' "
				 "id='p1'/>", true, true, &m), SN_MATCH);
	ck_assert(m.midstream);
	ck_assert_str_eq(m.xmpp_to, "");
	ck_assert_int_eq(run_mid("<b>bold</b>", true, true, &m), SN_NO_MATCH);
}
END_TEST

/* TLS application data picked up mid-stream. */
START_TEST(mid_tls_records)
{
	static const uint8_t tls_app[] = { 0x17, 0x03, 0x03, 0x00, 0x04, '<', 'i', 'q', ' ' };
	struct sn_meta m;

	ck_assert_int_eq(run_ex(tls_app, sizeof tls_app, false, false, &m), SN_NO_MATCH);
}
END_TEST

/* 10,000 random buffers of random lengths: never a match. */
START_TEST(mid_random_never_matches)
{
	sn_test_random_never_matches(sn_diss_xmpp, 10000, 0x13198a2e03707344u, false, 2);
}
END_TEST

/* ---- identity: SCRAM user, bound JID ---- */

#define CLIENT_HEADER "<stream:stream to='example.com' xmlns='jabber:client' " \
		      "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"

/* RFC 5802 section 5.1: n=, with "=2C" and "=3D" escapes, after a gs2 header with authzid. */
START_TEST(scram_client_first_user)
{
	struct sn_meta m;
	/* base64("n,a=admin,n=bob=2Cx=3Dy,r=fyko+d2lbbFgONRv9qkxdawL") */
	char auth[512];
	static const char b64[] = "bixhPWFkbWluLG49Ym9iPTJDeD0zRHkscj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0w=";
	snprintf(auth, sizeof auth,
		 CLIENT_HEADER "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>%s</auth>",
		 b64);
	ck_assert_int_eq(run_str(auth, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "bob,x=y");
	ck_assert_str_eq(m.xmpp_user, "bob,x=y");
	ck_assert_str_eq(m.xmpp_jid, ""); /* no bind seen */
	/* the text not yet complete: no user */
	auth[strlen(auth) - 10] = '\0';
	ck_assert_int_eq(run_str(auth, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "");
	/* a mechanism this reader does not know keeps no user */
	ck_assert_int_eq(run_str(CLIENT_HEADER "<auth mechanism='DIGEST-MD5'>bixuPWJvYixyPXgK</auth>", &m),
			 SN_MATCH);
	ck_assert_str_eq(m.user, "");
}
END_TEST

/* RFC 6120 section 7.6: the server's <jid> wins over the resource the client asked for. */
START_TEST(bound_jid_from_server)
{
	static const char client[] = CLIENT_HEADER
		"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
		"<resource>r1</resource></bind></iq>";
	static const char server[] = "<?xml version='1.0'?><stream:stream from='example.com' "
		"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
		"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
		"<iq type='result' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
		"<jid>alice@example.com/laptop-7</jid></bind></iq>";
	struct sn_meta m;
	ck_assert_int_eq(sn_test_dissect(sn_diss_xmpp, client, strlen(client), server, strlen(server),
					 true, false, &m),
			 SN_MATCH);
	ck_assert_str_eq(m.xmpp_jid, "alice@example.com/laptop-7");
	ck_assert_str_eq(m.user, "alice"); /* no SASL seen: the JID's local part */
	ck_assert_str_eq(m.xmpp_user, "");
	/* the server's answer cut before </jid>: nothing from it, and no user to build one */
	ck_assert_int_eq(sn_test_dissect(sn_diss_xmpp, client, strlen(client), server,
					 strlen(server) - 22, true, false, &m),
			 SN_MATCH);
	ck_assert_str_eq(m.xmpp_jid, "");
	ck_assert_str_eq(m.user, "");
}
END_TEST

START_TEST(plain_user_and_requested_resource)
{
	/* base64("\0carol\0secret") */
	static const char client[] = CLIENT_HEADER
		"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGNhcm9sAHNlY3JldA==</auth>"
		"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
		"<resource>desk</resource></bind></iq>";
	struct sn_meta m;
	ck_assert_int_eq(run_str(client, &m), SN_MATCH);
	ck_assert_str_eq(m.user, "carol");
	ck_assert_str_eq(m.xmpp_user, "carol");
	ck_assert_str_eq(m.xmpp_jid, "carol@example.com/desk");
}
END_TEST

Suite *xmpp_suite(void);

Suite *xmpp_suite(void)
{
	Suite *s = suite_create("xmpp");
	TCase *tc = tcase_create("sn_diss_xmpp");

	tcase_add_test(tc, art_b_stream_header);
	tcase_add_test(tc, oneshot_stream_header);
	tcase_add_test(tc, slixmpp_scram_login_user_and_jid);
	tcase_add_test(tc, s2s_header_from_and_server_ns);
	tcase_add_test(tc, nonstandard_port_8222);
	tcase_add_test(tc, scram_client_first_user);
	tcase_add_test(tc, bound_jid_from_server);
	tcase_add_test(tc, plain_user_and_requested_resource);
	tcase_add_test(tc, starttls_request);
	tcase_add_test(tc, starttls_prefixed_element);
	tcase_add_test(tc, starttls_wrong_namespace_ignored);
	tcase_add_test(tc, sasl_plain_user);
	tcase_add_test(tc, sasl_plain_authzid_and_authcid);
	tcase_add_test(tc, sasl_plain_empty_authcid_uses_authzid);
	tcase_add_test(tc, sasl_plain_malformed_gives_no_user);
	tcase_add_test(tc, sasl_other_mechanism_ignored);
	tcase_add_test(tc, other_prefix_component_ns);
	tcase_add_test(tc, unprefixed_stream_element);
	tcase_add_test(tc, bom_whitespace_and_spaced_attributes);
	tcase_add_test(tc, client_not_at_start);
	tcase_add_test(tc, namespace_must_be_bound);
	tcase_add_test(tc, http_refused_on_first_byte);
	tcase_add_test(tc, other_xml_refused);
	tcase_add_test(tc, tls_and_random_refused);
	tcase_add_test(tc, empty_and_final);
	tcase_add_test(tc, long_value_is_read);
	tcase_add_test(tc, long_kept_value_truncated);
	tcase_add_test(tc, many_attributes_are_a_bound_not_a_refusal);
	tcase_add_test(tc, long_prolog_is_reported_as_done_with);
	tcase_add_test(tc, declaration_comments_and_instructions);
	tcase_add_test(tc, websocket_framing_open);
	tcase_add_test(tc, long_name_is_a_bound);
	tcase_add_test(tc, attributes_need_separating_space);
	tcase_add_test(tc, many_elements_after_header_bounded);
	suite_add_tcase(s, tc);

	TCase *mid = tcase_create("midstream");
	tcase_add_test(mid, mid_stanzas);
	tcase_add_test(mid, mid_stream_elements);
	tcase_add_test(mid, mid_refusals);
	tcase_add_test(mid, mid_prefixes);
	tcase_add_test(mid, mid_needs_not_at_start);
	tcase_add_test(mid, mid_server_only);
	tcase_add_test(mid, mid_tls_records);
	tcase_add_test(mid, mid_random_never_matches);
	suite_add_tcase(s, mid);
	return s;
}
