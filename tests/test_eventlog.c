/*
 * test_eventlog.c - the event log writer (sensor/eventlog.c): append mode,
 * file mode, one write per line, rotation by rename + reopen, error
 * counting (ENOSPC from /dev/full, EBADF), standard output, and the buffered
 * flush policy.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eventlog.h"

static char dir[256];
static char path[300];

/* A fresh private directory per test (each test runs in its own process). */
static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/sn-eventlog-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	umask(022);
}

static void teardown(void)
{
	char other[320];

	snprintf(other, sizeof(other), "%s/events.jsonl.1", dir);
	unlink(path);
	unlink(other);
	rmdir(dir);
}

/* Reads a whole (small) file into buf; returns its length. */
static size_t slurp(const char *p, char *buf, size_t cap)
{
	FILE *f = fopen(p, "rb");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static void write_str(struct sn_eventlog *log, const char *s, int want)
{
	ck_assert_int_eq(sn_eventlog_write(log, s, strlen(s)), want);
}

/*
 * A disk that takes only part of a line (here a file-size limit) must not
 * leave that part behind: the next line would be glued to it.
 */
START_TEST(test_short_write_leaves_no_torn_line)
{
	struct sn_eventlog log;
	struct rlimit old, lim;
	const char *second = "{\"second\":\"this line does not fit under the limit\"}\n";
	const char *third = "{\"t\":1}\n";
	char buf[256];

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	write_str(&log, "{\"first\":\"a line of forty bytes......\"}\n", 0);
	/* no assertion while the limit holds: Check itself writes files */
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 64;
	setrlimit(RLIMIT_FSIZE, &lim);
	int rc2 = sn_eventlog_write(&log, second, strlen(second));
	int rc3 = sn_eventlog_write(&log, third, strlen(third));
	setrlimit(RLIMIT_FSIZE, &old);
	ck_assert_int_eq(rc2, -EFBIG); /* the real cause, not a made-up EIO */
	ck_assert_int_eq(rc3, 0);
	ck_assert_uint_eq(log.errors, 1);
	sn_eventlog_close(&log);
	slurp(path, buf, sizeof buf);
	ck_assert_str_eq(buf, "{\"first\":\"a line of forty bytes......\"}\n{\"t\":1}\n");
}
END_TEST

START_TEST(test_write_lines)
{
	struct sn_eventlog log;
	char buf[256];

	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	ck_assert(log.owns_fd);
	write_str(&log, "{\"a\":1}\n", 0);
	write_str(&log, "{\"b\":2}\n", 0);
	ck_assert_uint_eq(log.lines, 2);
	ck_assert_uint_eq(log.errors, 0);
	/* unbuffered: on disk at once, before close */
	slurp(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "{\"a\":1}\n{\"b\":2}\n");
	sn_eventlog_close(&log);
	ck_assert_int_eq(log.fd, -1);
}
END_TEST

START_TEST(test_appends_to_existing)
{
	struct sn_eventlog log;
	char buf[256];
	FILE *f = fopen(path, "w");

	fputs("old\n", f);
	fclose(f);
	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	write_str(&log, "new\n", 0);
	sn_eventlog_close(&log);
	slurp(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "old\nnew\n");
}
END_TEST

START_TEST(test_mode_0640)
{
	struct sn_eventlog log;
	struct stat st;

	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	sn_eventlog_close(&log);
}
END_TEST

START_TEST(test_open_failure)
{
	struct sn_eventlog log;
	char bad[320];

	snprintf(bad, sizeof(bad), "%s/missing/events.jsonl", dir);
	ck_assert_int_eq(sn_eventlog_open(&log, bad, true), -ENOENT);
	ck_assert_ptr_null(log.pending);
	ck_assert_int_eq(sn_eventlog_open(&log, "", false), -EINVAL);
	sn_eventlog_close(&log);
}
END_TEST

/* A link planted at the log's path is never followed, on open or reopen. */
START_TEST(test_symlink_not_followed)
{
	struct sn_eventlog log;
	char target[320], buf[64];
	FILE *f;

	snprintf(target, sizeof(target), "%s/events.jsonl.1", dir); /* teardown removes it */
	f = fopen(target, "w");
	fputs("precious\n", f);
	fclose(f);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(sn_eventlog_open(&log, path, false), -ELOOP);
	unlink(path);
	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	unlink(path);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(sn_eventlog_reopen(&log), -ELOOP);
	sn_eventlog_close(&log);
	slurp(target, buf, sizeof(buf));
	ck_assert_str_eq(buf, "precious\n");
}
END_TEST

/* A hard link to someone else's file is refused too. */
START_TEST(test_hard_link_refused)
{
	struct sn_eventlog log;
	char target[320];
	FILE *f;

	snprintf(target, sizeof(target), "%s/events.jsonl.1", dir);
	f = fopen(target, "w");
	fputs("precious\n", f);
	fclose(f);
	ck_assert_int_eq(link(target, path), 0);
	ck_assert_int_eq(sn_eventlog_open(&log, path, false), -EMLINK);
}
END_TEST

START_TEST(test_reopen_after_rename)
{
	struct sn_eventlog log;
	char rotated[320], buf[256];

	snprintf(rotated, sizeof(rotated), "%s/events.jsonl.1", dir);
	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	write_str(&log, "one\n", 0);
	ck_assert_int_eq(rename(path, rotated), 0);
	write_str(&log, "two\n", 0); /* still the old (renamed) file */
	ck_assert_int_eq(sn_eventlog_reopen(&log), 0);
	write_str(&log, "three\n", 0);
	sn_eventlog_close(&log);
	slurp(rotated, buf, sizeof(buf));
	ck_assert_str_eq(buf, "one\ntwo\n");
	slurp(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "three\n");
}
END_TEST

START_TEST(test_reopen_buffered_flushes_to_old_file)
{
	struct sn_eventlog log;
	char rotated[320], buf[256];

	snprintf(rotated, sizeof(rotated), "%s/events.jsonl.1", dir);
	ck_assert_int_eq(sn_eventlog_open(&log, path, true), 0);
	write_str(&log, "one\n", 0);
	ck_assert_int_eq(rename(path, rotated), 0);
	ck_assert_int_eq(sn_eventlog_reopen(&log), 0);
	write_str(&log, "two\n", 0);
	sn_eventlog_close(&log);
	slurp(rotated, buf, sizeof(buf));
	ck_assert_str_eq(buf, "one\n");
	slurp(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "two\n");
}
END_TEST

START_TEST(test_reopen_failure_keeps_old_fd)
{
	struct sn_eventlog log;
	char outside[320], buf[256];
	const char *tmp = getenv("TMPDIR");

	snprintf(outside, sizeof(outside), "%s/sn-eventlog-moved-%ld.jsonl",
		 tmp && *tmp ? tmp : P_tmpdir, (long)getpid());
	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	int old_fd = log.fd;
	/* the file moves away and its directory disappears: reopen cannot create */
	ck_assert_int_eq(rename(path, outside), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(sn_eventlog_reopen(&log), -ENOENT);
	ck_assert_int_eq(log.fd, old_fd);
	write_str(&log, "kept\n", 0);
	sn_eventlog_close(&log);
	slurp(outside, buf, sizeof(buf));
	ck_assert_str_eq(buf, "kept\n");
	unlink(outside);
}
END_TEST

START_TEST(test_dev_full_counts_enospc)
{
	struct sn_eventlog log;

	if (access("/dev/full", W_OK) != 0)
		return; /* not on this system */
	ck_assert_int_eq(sn_eventlog_open(&log, "/dev/full", false), 0);
	write_str(&log, "lost\n", -ENOSPC);
	write_str(&log, "lost too\n", -ENOSPC);
	ck_assert_uint_eq(log.errors, 2);
	ck_assert_uint_eq(log.lines, 0);
	ck_assert_int_eq(log.last_errno, ENOSPC);
	sn_eventlog_close(&log);
}
END_TEST

START_TEST(test_dev_full_buffered_counts_batch)
{
	struct sn_eventlog log;

	if (access("/dev/full", W_OK) != 0)
		return;
	ck_assert_int_eq(sn_eventlog_open(&log, "/dev/full", true), 0);
	write_str(&log, "a\n", 0);
	write_str(&log, "b\n", 0);
	write_str(&log, "c\n", 0);
	ck_assert_int_eq(sn_eventlog_flush(&log), -ENOSPC);
	ck_assert_uint_eq(log.errors, 3);
	ck_assert_uint_eq(log.pending_len, 0); /* dropped, never kept growing */
	ck_assert_int_eq(sn_eventlog_flush(&log), 0);
	sn_eventlog_close(&log);
}
END_TEST

START_TEST(test_ebadf_counted)
{
	struct sn_eventlog log;

	ck_assert_int_eq(sn_eventlog_open(&log, path, false), 0);
	close(log.fd); /* someone closed it behind our back */
	write_str(&log, "x\n", -EBADF);
	ck_assert_uint_eq(log.errors, 1);
	ck_assert_int_eq(log.last_errno, EBADF);
	log.owns_fd = false;
	sn_eventlog_close(&log);
	write_str(&log, "y\n", -EBADF); /* after close */
	ck_assert_uint_eq(log.errors, 2);
}
END_TEST

START_TEST(test_stdout_not_owned)
{
	struct sn_eventlog log;

	ck_assert_int_eq(sn_eventlog_open(&log, "-", false), 0);
	ck_assert_int_eq(log.fd, STDOUT_FILENO);
	ck_assert(!log.owns_fd);
	ck_assert_int_eq(sn_eventlog_reopen(&log), 0);
	ck_assert_int_eq(log.fd, STDOUT_FILENO);
	sn_eventlog_close(&log);
	/* standard output is still open */
	ck_assert_int_ne(fcntl(STDOUT_FILENO, F_GETFD), -1);
}
END_TEST

START_TEST(test_buffered_waits_for_flush)
{
	struct sn_eventlog log;
	char buf[256];

	ck_assert_int_eq(sn_eventlog_open(&log, path, true), 0);
	ck_assert_ptr_nonnull(log.pending);
	write_str(&log, "one\n", 0);
	write_str(&log, "two\n", 0);
	ck_assert_uint_eq(slurp(path, buf, sizeof(buf)), 0);
	ck_assert_int_eq(sn_eventlog_flush(&log), 0);
	ck_assert_uint_eq(log.lines, 2);
	slurp(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "one\ntwo\n");
	write_str(&log, "three\n", 0);
	sn_eventlog_close(&log); /* close flushes */
	slurp(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "one\ntwo\nthree\n");
}
END_TEST

START_TEST(test_buffered_full_and_oversized_lines)
{
	struct sn_eventlog log;
	struct stat st;

	ck_assert_int_eq(sn_eventlog_open(&log, path, true), 0);
	size_t cap = log.pending_cap;
	char *big = malloc(cap + 2);
	ck_assert_ptr_nonnull(big);

	/* a line that nearly fills the buffer, then one that does not fit: flush first */
	memset(big, 'a', cap - 10);
	big[cap - 11] = '\n';
	ck_assert_int_eq(sn_eventlog_write(&log, big, cap - 10), 0);
	write_str(&log, "0123456789abc\n", 0);
	ck_assert_uint_eq(log.lines, 1);
	ck_assert_uint_eq(log.pending_len, 14);

	/* larger than the whole buffer: pending goes first, then the line alone */
	memset(big, 'b', cap + 2);
	big[cap + 1] = '\n';
	ck_assert_int_eq(sn_eventlog_write(&log, big, cap + 2), 0);
	ck_assert_uint_eq(log.lines, 3);
	ck_assert_uint_eq(log.pending_len, 0);
	sn_eventlog_close(&log);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((size_t)st.st_size, (cap - 10) + 14 + (cap + 2));

	/* the order on disk is the order written */
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, (long)(cap - 10), SEEK_SET), 0);
	char head[15] = { 0 };
	ck_assert_uint_eq(fread(head, 1, 14, f), 14);
	ck_assert_str_eq(head, "0123456789abc\n");
	ck_assert_int_eq(fgetc(f), 'b');
	fclose(f);
	free(big);
}
END_TEST

Suite *eventlog_suite(void);

Suite *eventlog_suite(void)
{
	Suite *s = suite_create("eventlog");
	TCase *t = tcase_create("unbuffered");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_write_lines);
	tcase_add_test(t, test_appends_to_existing);
	tcase_add_test(t, test_mode_0640);
	tcase_add_test(t, test_open_failure);
	tcase_add_test(t, test_stdout_not_owned);
	tcase_add_test(t, test_symlink_not_followed);
	tcase_add_test(t, test_hard_link_refused);
	suite_add_tcase(s, t);

	t = tcase_create("rotation");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_reopen_after_rename);
	tcase_add_test(t, test_reopen_buffered_flushes_to_old_file);
	tcase_add_test(t, test_reopen_failure_keeps_old_fd);
	suite_add_tcase(s, t);

	t = tcase_create("errors");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_dev_full_counts_enospc);
	tcase_add_test(t, test_dev_full_buffered_counts_batch);
	tcase_add_test(t, test_ebadf_counted);
	suite_add_tcase(s, t);

	t = tcase_create("buffered");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_buffered_waits_for_flush);
	tcase_add_test(t, test_buffered_full_and_oversized_lines);
	tcase_add_test(t, test_short_write_leaves_no_torn_line);
	suite_add_tcase(s, t);
	return s;
}
