/*
 * gzstream.c - a stdio stream over zlib's inflate (fopencookie): reads the
 * compressed stream in 64 KiB blocks and inflates into the reader's buffer.
 * The only state is one z_stream and its input block, allocated once per
 * opened file.
 */
#include "gzstream.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

#define SN_GZ_BLOCK (1u << 16)

struct gzstream {
	FILE *in;
	bool close_in;
	bool in_eof;  /* no more compressed bytes */
	bool done;    /* last member ended, or cut off */
	bool failed;  /* damaged: every further read is an error */
	z_stream zs;
	unsigned char block[SN_GZ_BLOCK];
};

/* More compressed input when the block is used up; false at its end. */
static bool refill(struct gzstream *g)
{
	if (g->zs.avail_in > 0)
		return true;
	if (g->in_eof)
		return false;
	size_t n = fread(g->block, 1, sizeof g->block, g->in);
	if (n == 0) {
		g->in_eof = true;
		return false;
	}
	g->zs.next_in = g->block;
	g->zs.avail_in = (uInt)n;
	return true;
}

static ssize_t gz_read(void *cookie, char *buf, size_t size)
{
	struct gzstream *g = cookie;
	if (g->failed) {
		errno = EIO;
		return -1;
	}
	if (g->done || size == 0)
		return 0;
	if (size > INT_MAX)
		size = INT_MAX;
	g->zs.next_out = (Bytef *)buf;
	g->zs.avail_out = (uInt)size;
	while (g->zs.avail_out > 0) {
		if (!refill(g)) {
			if (ferror(g->in)) {
				errno = EIO;
				return -1;
			}
			g->done = true; /* cut off mid-member: what came out is all there is */
			break;
		}
		int rc = inflate(&g->zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			/* another member may follow */
			if (!refill(g)) {
				g->done = !ferror(g->in);
				break;
			}
			inflateReset(&g->zs);
			continue;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			g->failed = true;
			size_t got = size - g->zs.avail_out;
			if (got > 0)
				return (ssize_t)got; /* the error comes on the next read */
			errno = EIO;
			return -1;
		}
	}
	return (ssize_t)(size - g->zs.avail_out);
}

static int gz_close(void *cookie)
{
	struct gzstream *g = cookie;
	int rc = 0;
	inflateEnd(&g->zs);
	if (g->close_in)
		rc = fclose(g->in);
	free(g);
	return rc;
}

FILE *sn_gzstream_open(FILE *in, bool close_in, const unsigned char *head, size_t n_head)
{
	struct gzstream *g = calloc(1, sizeof *g);
	if (!g || n_head > 2)
		goto fail;
	g->in = in;
	g->close_in = close_in;
	memcpy(g->block, head, n_head);
	g->zs.next_in = g->block;
	g->zs.avail_in = (uInt)n_head;
	if (inflateInit2(&g->zs, 15 + 16) != Z_OK) /* 16: gzip header and trailer only */
		goto fail;
	cookie_io_functions_t io = { .read = gz_read, .close = gz_close };
	FILE *f = fopencookie(g, "rb", io);
	if (!f) {
		inflateEnd(&g->zs);
		goto fail;
	}
	return f;
fail:
	free(g);
	return NULL;
}
