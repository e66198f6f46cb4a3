/*
 * safefile.c - creating the files the sensor writes (event log, pid file)
 * without following what another user planted: the directory rule of
 * safefile.h, O_NOFOLLOW opens, and the pid file written to a fresh
 * temporary name and renamed into place.
 */
#include "safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SN_SAFEFILE_PATH 4096

/* The directory part of path ("." for a bare name) into out. */
static void dir_of(const char *path, char *out, size_t cap)
{
	char copy[SN_SAFEFILE_PATH];
	snprintf(copy, sizeof copy, "%s", path);
	snprintf(out, cap, "%s", dirname(copy));
}

static bool owner_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

int sn_safefile_check(const char *what, const char *path, char *msg, size_t cap)
{
	char dir[SN_SAFEFILE_PATH];
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		snprintf(msg, cap,
			 "%s '%s' is a symbolic link, which is never followed: give the path of "
			 "the file itself%s",
			 what, path, strcmp(what, "event log") == 0 ? " ('-' for standard output)" : "");
		return -1;
	}
	dir_of(path, dir, sizeof dir);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0; /* the open names the missing directory */
	unsigned mode = (unsigned)st.st_mode & 07777;
	bool sticky = (st.st_mode & S_ISVTX) != 0;
	if ((st.st_mode & S_IWOTH) && !sticky) {
		snprintf(msg, cap,
			 "%s '%s': directory '%s' is writable by every user (mode %04o, no sticky "
			 "bit), so anyone could replace the file: use another directory or "
			 "'chmod o-w %s'",
			 what, path, dir, mode, dir);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !owner_trusted(st.st_uid)) {
		snprintf(msg, cap,
			 "%s '%s': directory '%s' belongs to uid %u and is writable by its group "
			 "or others (mode %04o), so they could replace the file: use another "
			 "directory or 'chmod go-w %s'",
			 what, path, dir, (unsigned)st.st_uid, mode, dir);
		return -1;
	}
	return 0;
}

int sn_safefile_open_append(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 1) {
		close(fd);
		return -EMLINK;
	}
	return fd;
}

/* Writes all of buf; 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int sn_safefile_write_pid(const char *path, long pid)
{
	char tmp[SN_SAFEFILE_PATH + 16];
	char line[32];
	int n = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);

	if (n < 0 || (size_t)n >= sizeof tmp)
		return -ENAMETOOLONG;
	int fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT|O_EXCL: never through a link */
	if (fd < 0)
		return -errno;
	n = snprintf(line, sizeof line, "%ld\n", pid);
	int rc = fchmod(fd, 0644) != 0 ? -errno : write_all(fd, line, (size_t)n);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}
