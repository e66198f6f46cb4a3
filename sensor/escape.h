/*
 * escape.h - wire strings made safe for a terminal or a spreadsheet.
 *
 * A string off the wire may hold terminal control sequences (ESC [2J, OSC 52
 * clipboard writes, BEL, CR/LF that break a row), C1 controls, Unicode line
 * separators or bytes that are not UTF-8.  sn_escape_text() writes it with
 * every character that is not printable spelled out, as `ls -b` and
 * systemctl do: bytes below 0x20, DEL and bytes that are not UTF-8 as \xNN,
 * non-printing code points (C1 controls, U+2028/U+2029, bidirectional and
 * zero-width format characters, noncharacters) as \uXXXX or \UXXXXXXXX, and a
 * backslash as \\, so the text is unambiguous and prints on one line.  The
 * result is valid UTF-8 whose display width sn_escape_text() also returns.
 */
#ifndef SN_ESCAPE_H
#define SN_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writes the escaped form of s[0..n) to out (at most cap - 1 bytes and a NUL;
 * a character that does not fit whole is left out with everything after it).
 * Returns the bytes written; *width (may be NULL) gets the columns the text
 * takes on a terminal (East Asian wide characters count 2, combining marks 0).
 */
size_t sn_escape_text(const char *s, size_t n, char *out, size_t cap, size_t *width);

/*
 * One CSV field (RFC 4180) from text already made printable by
 * sn_escape_text(): a value a spreadsheet would run as a formula (starting
 * with =, +, - or @) gets a leading ', and a field holding a comma, a
 * quote, a leading or trailing space or that guard is quoted with its
 * quotes doubled.  Writes at most cap - 1 bytes and a NUL (a field that does
 * not fit whole is written empty); returns the bytes written.
 */
size_t sn_csv_field(const char *text, char *out, size_t cap);

/* Columns one printable code point takes: 0 (combining), 1 or 2 (wide). */
int sn_escape_cp_width(uint32_t cp);
/* True when the code point is spelled out rather than printed. */
bool sn_escape_cp_hidden(uint32_t cp);

/*
 * Length of the well-formed UTF-8 sequence at s[0] (1..4) with its code point
 * in *cp, or 0 when ill-formed; then *bad is the length of its maximal
 * ill-formed subpart (at least 1), as Unicode 15 section 3.9 defines it.
 */
size_t sn_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp, size_t *bad);

#endif /* SN_ESCAPE_H */
