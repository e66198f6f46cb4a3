/*
 * escape.c - terminal-safe text of wire strings (escape.h), and the UTF-8
 * decoder the JSON builder shares.
 *
 * Widths follow Unicode's East Asian Width (W and F are two columns) and
 * general category Mn/Me (zero) for the ranges that matter in practice; a
 * rare script outside these tables counts one column per character, which
 * can only misalign a row, never break it.
 */
#include "escape.h"

#include <stdio.h>
#include <string.h>

size_t sn_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *bad)
{
	unsigned char b0 = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need;
	uint32_t c;

	if (b0 < 0x80) {
		*cp = b0;
		return 1;
	}
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		need = 2;
		c = b0 & 0x1Fu;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		need = 3;
		c = b0 & 0x0Fu;
		if (b0 == 0xE0)
			lo = 0xA0;          /* overlong below U+0800 */
		else if (b0 == 0xED)
			hi = 0x9F;          /* surrogates U+D800..U+DFFF */
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		need = 4;
		c = b0 & 0x07u;
		if (b0 == 0xF0)
			lo = 0x90;          /* overlong below U+10000 */
		else if (b0 == 0xF4)
			hi = 0x8F;          /* above U+10FFFF */
	} else {
		*bad = 1;                   /* 80..C1 and F5..FF never start one */
		return 0;
	}
	for (size_t i = 1; i < need; i++) {
		unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
		if (i >= n || s[i] < min || s[i] > max) {
			*bad = i;
			return 0;
		}
		c = (c << 6) | (s[i] & 0x3Fu);
	}
	*cp = c;
	return need;
}

struct range {
	uint32_t lo, hi;
};

static bool in(const struct range *r, size_t n, uint32_t cp)
{
	for (size_t i = 0; i < n; i++) {
		if (cp >= r[i].lo && cp <= r[i].hi)
			return true;
	}
	return false;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Controls and invisible format characters: spelled out, never printed. */
static const struct range hidden[] = {
	{ 0x0000, 0x001F }, { 0x007F, 0x009F }, /* C0, DEL, C1 */
	{ 0x00AD, 0x00AD },                     /* soft hyphen */
	{ 0x061C, 0x061C },                     /* Arabic letter mark */
	{ 0x180E, 0x180E },                     /* Mongolian vowel separator */
	{ 0x200B, 0x200F },                     /* zero-width space/joiners, LRM, RLM */
	{ 0x2028, 0x202E },                     /* line/paragraph separators, bidi embeddings */
	{ 0x2060, 0x206F },                     /* word joiner, invisible operators, bidi isolates */
	{ 0xFEFF, 0xFEFF },                     /* zero-width no-break space (BOM) */
	{ 0xFFF9, 0xFFFB },                     /* interlinear annotation */
	{ 0xE0000, 0xE007F },                   /* tags */
};

static const struct range zero_width[] = {
	{ 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD }, { 0x0610, 0x061A },
	{ 0x064B, 0x065F }, { 0x0E31, 0x0E31 }, { 0x0E34, 0x0E3A }, { 0x0E47, 0x0E4E },
	{ 0x1AB0, 0x1AFF }, { 0x1DC0, 0x1DFF }, { 0x20D0, 0x20FF }, { 0xFE00, 0xFE0F },
	{ 0xFE20, 0xFE2F }, { 0xE0100, 0xE01EF },
};

static const struct range wide[] = {
	{ 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A }, { 0x23E9, 0x23EC },
	{ 0x2E80, 0x303E }, { 0x3041, 0x33FF }, { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF },
	{ 0xA000, 0xA4CF }, { 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF },
	{ 0xFE10, 0xFE19 }, { 0xFE30, 0xFE6F }, { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 },
	{ 0x16FE0, 0x16FE4 }, { 0x17000, 0x18CFF }, { 0x1B000, 0x1B2FF },
	{ 0x1F300, 0x1F64F }, { 0x1F900, 0x1F9FF }, { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
};

bool sn_escape_cp_hidden(uint32_t cp)
{
	if ((cp & 0xFFFEu) == 0xFFFEu || (cp >= 0xFDD0 && cp <= 0xFDEF))
		return true; /* noncharacters */
	return in(hidden, N(hidden), cp);
}

int sn_escape_cp_width(uint32_t cp)
{
	if (in(zero_width, N(zero_width), cp))
		return 0;
	return in(wide, N(wide), cp) ? 2 : 1;
}

struct out {
	char *buf;
	size_t cap, len, width;
	bool full;
};

static void emit(struct out *o, const char *s, size_t n, size_t width)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = true; /* keep whole characters only */
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->width += width;
}

static void emit_escape(struct out *o, const char *fmt, unsigned v)
{
	char tmp[16];
	int n = snprintf(tmp, sizeof tmp, fmt, v);

	emit(o, tmp, (size_t)n, (size_t)n);
}

size_t sn_escape_text(const char *s, size_t n, char *out, size_t cap, size_t *width)
{
	const unsigned char *u = (const unsigned char *)s;
	struct out o = { .buf = out, .cap = cap, .full = cap == 0 };
	size_t i = 0;

	while (i < n && !o.full) {
		uint32_t cp = 0;
		size_t bad = 0, len = sn_utf8_decode(u + i, n - i, &cp, &bad);
		if (len == 0) {
			for (size_t k = 0; k < bad; k++)
				emit_escape(&o, "\\x%02x", u[i + k]);
			i += bad;
		} else if (cp == '\\') {
			emit(&o, "\\\\", 2, 2);
			i++;
		} else if (cp < 0x80 && !sn_escape_cp_hidden(cp)) {
			emit(&o, s + i, 1, 1);
			i++;
		} else if (cp < 0x80) {
			emit_escape(&o, "\\x%02x", (unsigned)cp);
			i++;
		} else if (sn_escape_cp_hidden(cp)) {
			emit_escape(&o, cp > 0xFFFF ? "\\U%08x" : "\\u%04x", (unsigned)cp);
			i += len;
		} else {
			emit(&o, s + i, len, (size_t)sn_escape_cp_width(cp));
			i += len;
		}
	}
	if (cap)
		out[o.len] = '\0';
	if (width)
		*width = o.width;
	return o.len;
}

size_t sn_csv_field(const char *text, char *out, size_t cap)
{
	size_t n = strlen(text), len = 0;
	bool guard = n && strchr("=+-@", text[0]) != NULL;
	bool quote = guard || strpbrk(text, ",\"") != NULL ||
		     (n && (text[0] == ' ' || text[n - 1] == ' '));

	if (cap == 0)
		return 0;
	/* worst case: two quotes, the guard, every character doubled */
	if (2 * n + 3 >= cap) {
		out[0] = '\0';
		return 0;
	}
	if (quote)
		out[len++] = '"';
	if (guard)
		out[len++] = '\'';
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '"')
			out[len++] = '"';
		out[len++] = text[i];
	}
	if (quote)
		out[len++] = '"';
	out[len] = '\0';
	return len;
}
