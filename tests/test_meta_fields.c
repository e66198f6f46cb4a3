/*
 * test_meta_fields.c - dissectors/meta_fields.c: the table of struct
 * sn_meta's fields follows the contract's `details` keys in order, and
 * sn_meta_same sees a difference in every field of it.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "dissector.h"

/* The contract's `details` keys a dissector fills (tests/spec/README.md), in
 * the order events write them; `tunnel` comes between tls_alpn and carrier. */
static const char *const contract_keys[] = {
	"mqtt_version", "keepalive", "clean_session", "will_topic", "topics",
	"xmpp_to", "xmpp_from", "xmpp_ns", "xmpp_version", "starttls",
	"amqp_version", "stomp_command", "stomp_accept_version", "stomp_host",
	"tls_sni", "tls_alpn",
	/* tunnel */
	"carrier", "ws_path", "ws_host", "ws_protocol", "malformed", "truncated_handshake",
};

START_TEST(keys_in_contract_order)
{
	size_t k = 0;
	for (size_t i = 0; i < sn_meta_n_fields; i++) {
		const char *json = sn_meta_fields[i].json;
		if (!json)
			continue;
		if (i >= sn_meta_n_proto_fields)
			ck_assert_uint_ge(k, 16); /* carrier fields after the tunnel */
		else
			ck_assert_uint_lt(k, 16);
		/* keys added later may sit between, but the known ones keep their order */
		size_t at = k;
		while (at < sizeof contract_keys / sizeof contract_keys[0] &&
		       strcmp(contract_keys[at], json) != 0)
			at++;
		if (at < sizeof contract_keys / sizeof contract_keys[0])
			k = at + 1;
	}
	ck_assert_uint_eq(k, sizeof contract_keys / sizeof contract_keys[0]);
	/* every key once */
	for (size_t i = 0; i < sn_meta_n_fields; i++)
		for (size_t j = i + 1; j < sn_meta_n_fields; j++)
			if (sn_meta_fields[i].json && sn_meta_fields[j].json)
				ck_assert_str_ne(sn_meta_fields[i].json, sn_meta_fields[j].json);
}
END_TEST

START_TEST(offsets_inside_the_struct)
{
	for (size_t i = 0; i < sn_meta_n_fields; i++) {
		const struct sn_meta_field *f = &sn_meta_fields[i];
		ck_assert_uint_lt(f->off, sizeof(struct sn_meta));
		if (f->kind == SN_MK_STR)
			ck_assert_uint_le(f->off + f->size, sizeof(struct sn_meta));
		if (f->kind == SN_MK_LIST) {
			ck_assert_uint_gt(f->items, 0);
			ck_assert_uint_le(f->off + f->items * f->size, sizeof(struct sn_meta));
		}
	}
	const struct sn_meta_field *t = NULL;
	for (size_t i = 0; i < sn_meta_n_fields; i++)
		if (sn_meta_fields[i].json && strcmp(sn_meta_fields[i].json, "topics") == 0)
			t = &sn_meta_fields[i];
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->items, SN_META_TOPICS);
	ck_assert_uint_eq(t->size, SN_META_STR);
	ck_assert_uint_eq(t->off, offsetof(struct sn_meta, topics));
	ck_assert_uint_eq(t->aux_off, offsetof(struct sn_meta, n_topics));
}
END_TEST

/* Changes field f of m so that it no longer equals what it was. */
static void poke(struct sn_meta *m, const struct sn_meta_field *f)
{
	char *p = (char *)m + f->off;
	char *aux = (char *)m + f->aux_off;
	switch (f->kind) {
	case SN_MK_STR:
		p[0] = 'x';
		break;
	case SN_MK_LIST:
		*(uint8_t *)aux = 1;
		p[0] = 'x';
		break;
	case SN_MK_UINT:
		*(uint16_t *)p = 7;
		break;
	case SN_MK_BOOL:
	case SN_MK_FLAG:
		*(bool *)p = true;
		break;
	case SN_MK_CARRIER:
		*(enum sn_carrier *)p = SN_CARRIER_WEBSOCKET;
		break;
	case SN_MK_PAYLOADS: {
		struct sn_meta_payloads *ps = (struct sn_meta_payloads *)(void *)p;
		ps->n = 1;
		ps->used = 1;
		ps->item[0].len = 1;
		ps->item[0].size = 1;
		ps->pool[0] = 'x';
		break;
	}
	}
}

START_TEST(same_sees_every_field)
{
	struct sn_meta a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	ck_assert(sn_meta_same(&a, &b));
	for (size_t i = 0; i < sn_meta_n_fields; i++) {
		b = a;
		poke(&b, &sn_meta_fields[i]);
		ck_assert_msg(!sn_meta_same(&a, &b), "field %zu (%s) not compared", i,
			      sn_meta_fields[i].json ? sn_meta_fields[i].json : "-");
	}
	/* a has_ flag alone is a difference; skip is not metadata */
	b = a;
	b.has_keepalive = true;
	ck_assert(!sn_meta_same(&a, &b));
	b = a;
	b.skip = 10;
	ck_assert(sn_meta_same(&a, &b));
	b = a;
	b.proto = SN_PROTO_XMPP;
	ck_assert(!sn_meta_same(&a, &b));
	/* a list's items past its count do not count */
	b = a;
	b.topics[3][0] = 'z';
	ck_assert(sn_meta_same(&a, &b));
}
END_TEST

Suite *meta_fields_suite(void);

Suite *meta_fields_suite(void)
{
	Suite *s = suite_create("meta_fields");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, keys_in_contract_order);
	tcase_add_test(tc, offsets_inside_the_struct);
	tcase_add_test(tc, same_sees_every_field);
	suite_add_tcase(s, tc);
	return s;
}
