/*
 * eventlog.h - the append-only JSON Lines file (or standard output).
 *
 * Each line goes out in one write(2) so a crash or a rotation never leaves
 * half a line.  Write errors (disk full, directory removed) are counted, the
 * line is dropped, and the caller is told once per interval; writing resumes
 * by itself when it can.  sn_eventlog_reopen() serves SIGHUP and logrotate.
 */
#ifndef SN_EVENTLOG_H
#define SN_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sn_eventlog {
	char path[256];     /* "-" = standard output */
	int fd;
	bool owns_fd;
	uint64_t lines;     /* lines written */
	uint64_t errors;    /* lines lost to write errors */
	uint64_t errors_reported;
	int last_errno;
	/* buffered flush policy */
	char *pending;      /* NULL = write each line at once */
	size_t pending_len, pending_cap;
};

/*
 * Opens (creating 0640, appending) path, never through a symbolic link
 * (-ELOOP) or into a file with other hard links (-EMLINK).  0, or -errno.
 */
int sn_eventlog_open(struct sn_eventlog *log, const char *path, bool buffered);
/* Reopens the same path (after rotation).  0, or -errno (the old fd stays). */
int sn_eventlog_reopen(struct sn_eventlog *log);
/* Writes one complete line (ending in '\n').  0, or -errno (counted). */
int sn_eventlog_write(struct sn_eventlog *log, const char *line, size_t len);
/* Writes what a buffered log holds, each line whole. */
int sn_eventlog_flush(struct sn_eventlog *log);
void sn_eventlog_close(struct sn_eventlog *log);

#endif /* SN_EVENTLOG_H */
