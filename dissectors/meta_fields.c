/*
 * meta_fields.c - the table of struct sn_meta's fields (dissector.h),
 * generated from the one declaration in meta_fields.h, and the comparison
 * of two metadata records built on it.
 */
#include <stddef.h>
#include <string.h>

#include "dissector.h"

#define MF_OFF(m) offsetof(struct sn_meta, m)
#define MF_SIZE(m) sizeof(((struct sn_meta *)0)->m)

#define MF_ROW(kind, name, json, a, b) MF_ROW_##kind(name, json),
#define MF_ROW_STR(name, json) { json, SN_MK_STR, MF_OFF(name), 0, MF_SIZE(name), 0 }
#define MF_ROW_LIST(name, json) \
	{ json, SN_MK_LIST, MF_OFF(name), MF_OFF(n_##name), MF_SIZE(name[0]), \
	  MF_SIZE(name) / MF_SIZE(name[0]) }
#define MF_ROW_UINT(name, json) { json, SN_MK_UINT, MF_OFF(name), MF_OFF(has_##name), 0, 0 }
#define MF_ROW_BOOL(name, json) { json, SN_MK_BOOL, MF_OFF(name), MF_OFF(has_##name), 0, 0 }
#define MF_ROW_FLAG(name, json) { json, SN_MK_FLAG, MF_OFF(name), 0, 0, 0 }
#define MF_ROW_CARRIER(name, json) { json, SN_MK_CARRIER, MF_OFF(name), 0, 0, 0 }
#define MF_ROW_PAYLOADS(name, json) { json, SN_MK_PAYLOADS, MF_OFF(name), 0, MF_SIZE(name), 0 }

#define MF_COUNT(kind, name, json, a, b) +1

const struct sn_meta_field sn_meta_fields[] = {
	SN_META_FIELDS(MF_ROW)
	SN_META_CARRIER_FIELDS(MF_ROW)
};
const size_t sn_meta_n_fields = sizeof sn_meta_fields / sizeof sn_meta_fields[0];
const size_t sn_meta_n_proto_fields = 0 SN_META_FIELDS(MF_COUNT);

/* Same payloads: counts, items and the pool bytes in use (the rest is never read). */
static bool payloads_same(const struct sn_meta_payloads *a, const struct sn_meta_payloads *b)
{
	if (a->n != b->n || a->used != b->used || a->used > SN_META_PAYLOAD_POOL)
		return false;
	for (size_t i = 0; i < a->n && i < SN_META_PAYLOADS; i++) {
		const struct sn_meta_payload *p = &a->item[i], *q = &b->item[i];
		if (p->size != q->size || p->off != q->off || p->len != q->len ||
		    p->topic != q->topic || p->cut != q->cut)
			return false;
	}
	return memcmp(a->pool, b->pool, a->used) == 0;
}

static bool field_same(const struct sn_meta_field *f, const char *x, const char *y)
{
	switch (f->kind) {
	case SN_MK_STR:
		return strncmp(x + f->off, y + f->off, f->size) == 0;
	case SN_MK_LIST: {
		uint8_t n = *(const uint8_t *)(x + f->aux_off);
		if (n != *(const uint8_t *)(y + f->aux_off))
			return false;
		for (size_t k = 0; k < n && k < f->items; k++)
			if (strncmp(x + f->off + k * f->size, y + f->off + k * f->size, f->size) != 0)
				return false;
		return true;
	}
	case SN_MK_UINT:
		return *(const bool *)(x + f->aux_off) == *(const bool *)(y + f->aux_off) &&
		       *(const uint16_t *)(x + f->off) == *(const uint16_t *)(y + f->off);
	case SN_MK_BOOL:
		return *(const bool *)(x + f->aux_off) == *(const bool *)(y + f->aux_off) &&
		       *(const bool *)(x + f->off) == *(const bool *)(y + f->off);
	case SN_MK_FLAG:
		return *(const bool *)(x + f->off) == *(const bool *)(y + f->off);
	case SN_MK_CARRIER:
		return *(const enum sn_carrier *)(x + f->off) == *(const enum sn_carrier *)(y + f->off);
	case SN_MK_PAYLOADS:
		return payloads_same((const struct sn_meta_payloads *)(const void *)(x + f->off),
				     (const struct sn_meta_payloads *)(const void *)(y + f->off));
	}
	return false;
}

bool sn_meta_same(const struct sn_meta *x, const struct sn_meta *y)
{
	if (x->proto != y->proto)
		return false;
	for (size_t i = 0; i < sn_meta_n_fields; i++)
		if (!field_same(&sn_meta_fields[i], (const char *)x, (const char *)y))
			return false;
	return true;
}
