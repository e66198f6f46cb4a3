/*
 * eventlog.c - the append-only JSON Lines file (or standard output).
 *
 * Owns the event log's file descriptor and its optional batch buffer.  A
 * line (or, when buffered, a batch of whole lines) always goes out in one
 * write(2): with O_APPEND that keeps lines whole even when a rotation
 * renames the file underneath us.  A failed or short write drops what it
 * carried and is counted; the caller reads `errors` / `last_errno` and
 * decides how often to tell the user.  Nothing here retries a failed line,
 * so a full disk never makes memory grow.
 */
#include "eventlog.h"
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SN_EVENTLOG_BUFFER (1u << 20) /* batch buffer of the interval flush policy */

/* O_NOFOLLOW, refuses hard-linked files: see safefile.h. */
static int open_path(const char *path)
{
	return sn_safefile_open_append(path);
}

/*
 * A short write (a full disk takes what fits) left the head of a line at the
 * end of the file, and the next line would be glued to it.  Cut it off: with
 * O_APPEND the offset is the end of the file, and shrinking needs no space.
 */
static void undo_short_write(int fd, size_t written)
{
	off_t end = lseek(fd, 0, SEEK_CUR); /* -1 on a pipe or tty: nothing to cut */

	if (end < (off_t)written)
		return;
	if (ftruncate(fd, end - (off_t)written) != 0)
		return; /* the line is counted as lost either way */
}

/*
 * Writes buf, normally in one write(2); 0, or -errno.  A short write (a full disk takes what
 * fits) is followed by writes of the rest until one fails, so the error
 * reported is the real one (ENOSPC, EFBIG), never a made-up EIO; the head
 * already written is then cut off again.
 */
static int write_once(int fd, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO; /* 0 bytes written: no errno to report */
			if (done > 0)
				undo_short_write(fd, done);
			return -e;
		}
		done += (size_t)n;
	}
	return 0;
}

static uint64_t count_lines(const char *buf, size_t len)
{
	uint64_t lines = 0;
	const char *p = buf, *end = buf + len;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	return lines;
}

/* Writes len bytes holding `lines` whole lines and does the accounting. */
static int emit(struct sn_eventlog *log, const char *buf, size_t len, uint64_t lines)
{
	int rc = log->fd < 0 ? -EBADF : write_once(log->fd, buf, len);

	if (rc == 0) {
		log->lines += lines;
		return 0;
	}
	log->errors += lines;
	log->last_errno = -rc;
	return rc;
}

int sn_eventlog_open(struct sn_eventlog *log, const char *path, bool buffered)
{
	size_t n = strlen(path);

	memset(log, 0, sizeof(*log));
	log->fd = -1;
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(log->path))
		return -ENAMETOOLONG;
	memcpy(log->path, path, n + 1);
	if (buffered) {
		log->pending = malloc(SN_EVENTLOG_BUFFER);
		if (!log->pending)
			return -ENOMEM;
		log->pending_cap = SN_EVENTLOG_BUFFER;
	}
	if (strcmp(path, "-") == 0) {
		log->fd = STDOUT_FILENO;
		return 0;
	}
	int fd = open_path(path);
	if (fd < 0) {
		free(log->pending);
		log->pending = NULL;
		log->pending_cap = 0;
		return fd;
	}
	log->fd = fd;
	log->owns_fd = true;
	return 0;
}

int sn_eventlog_reopen(struct sn_eventlog *log)
{
	if (!log->owns_fd)
		return 0; /* standard output: nothing to reopen */
	int fd = open_path(log->path);
	if (fd < 0)
		return fd;
	/* Lines gathered so far belong to the file they were meant for. */
	sn_eventlog_flush(log);
	close(log->fd);
	log->fd = fd;
	return 0;
}

int sn_eventlog_write(struct sn_eventlog *log, const char *line, size_t len)
{
	if (!log->pending)
		return emit(log, line, len, 1);

	int rc = 0;
	if (len > log->pending_cap - log->pending_len)
		rc = sn_eventlog_flush(log);
	if (len > log->pending_cap) {
		int rc2 = emit(log, line, len, 1); /* larger than the buffer: alone */
		return rc2 ? rc2 : rc;
	}
	memcpy(log->pending + log->pending_len, line, len);
	log->pending_len += len;
	return rc;
}

int sn_eventlog_flush(struct sn_eventlog *log)
{
	if (!log->pending || log->pending_len == 0)
		return 0;
	size_t len = log->pending_len;
	log->pending_len = 0; /* sent or dropped: the buffer never grows */
	return emit(log, log->pending, len, count_lines(log->pending, len));
}

void sn_eventlog_close(struct sn_eventlog *log)
{
	sn_eventlog_flush(log);
	if (log->owns_fd && log->fd >= 0)
		close(log->fd);
	log->fd = -1;
	log->owns_fd = false;
	free(log->pending);
	log->pending = NULL;
	log->pending_len = log->pending_cap = 0;
}
