/*
 * safefile.h - creating the files the sensor writes (event log, pid file)
 * safely when it runs as root.
 *
 * The rule for the directory a file is written in: it is refused when
 * another user could replace the file there, that is when it is
 *   - writable by every user without the sticky bit (chmod o+w, not +t), or
 *   - writable by its group or by every user, and owned by someone other
 *     than root or the sensor's own user.
 * A directory owned by another user but writable only by that owner (a
 * home directory, /run/pubsub-sensor owned by the service user) is
 * accepted: the final component is never followed as a symbolic link, so
 * the owner can only point the sensor at a file of its own.  Parent
 * directories further up are not checked.
 */
#ifndef SN_SAFEFILE_H
#define SN_SAFEFILE_H

#include <stddef.h>

/*
 * Checks the directory that holds `path` (what: "event log", "pid file"),
 * and that path itself is not a symbolic link.  0, or -1 with one line in
 * msg saying why and how to fix it.  A missing directory is left to the
 * open that follows, which names it.
 */
int sn_safefile_check(const char *what, const char *path, char *msg, size_t cap);

/*
 * Opens path for appending (O_APPEND|O_CREAT, mode 0640, O_NOFOLLOW,
 * O_CLOEXEC).  A symbolic link gives -ELOOP; a regular file with more than
 * one hard link (a link planted to a file of someone else) gives -EMLINK.
 * fd, or -errno.
 */
int sn_safefile_open_append(const char *path);

/*
 * Writes "pid\n" to path through a new temporary file in the same directory
 * (O_CREAT|O_EXCL, so never through a link) renamed over path: a symbolic
 * link at path is replaced, never followed.  The file is mode 0644.
 * 0, or -errno.
 */
int sn_safefile_write_pid(const char *path, long pid);

#endif /* SN_SAFEFILE_H */
