/*
 * test_safefile.c - the files the sensor writes as root (sensor/safefile.c):
 * the directory rule, no-follow opens, and the pid file's rename.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safefile.h"

static char dir[256];
static char path[300];
static char victim[300];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/sn-safefile-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	FILE *f = fopen(victim, "w");
	ck_assert_ptr_nonnull(f);
	fputs("precious\n", f);
	fclose(f);
}

static void teardown(void)
{
	chmod(dir, 0700);
	unlink(path);
	unlink(victim);
	rmdir(dir);
}

static void read_back(const char *p, char *buf, size_t cap)
{
	FILE *f = fopen(p, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

START_TEST(test_private_dir_accepted)
{
	char msg[512] = "";
	ck_assert_int_eq(sn_safefile_check("event log", path, msg, sizeof msg), 0);
	ck_assert_str_eq(msg, "");
}
END_TEST

START_TEST(test_world_writable_refused)
{
	char msg[512] = "";
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(sn_safefile_check("event log", path, msg, sizeof msg), -1);
	ck_assert_ptr_nonnull(strstr(msg, "writable by every user (mode 0777, no sticky bit)"));
	ck_assert_ptr_nonnull(strstr(msg, "chmod o-w"));
	ck_assert_ptr_null(strchr(msg, '\n'));
}
END_TEST

/* /tmp-like: world-writable with the sticky bit, owned by root or us. */
START_TEST(test_sticky_owned_accepted)
{
	char msg[512] = "";
	ck_assert_int_eq(chmod(dir, 01777), 0);
	ck_assert_int_eq(sn_safefile_check("pid file", path, msg, sizeof msg), 0);
}
END_TEST

/* Group-writable and owned by another user: refused (needs root to set up). */
START_TEST(test_group_writable_other_owner_refused)
{
	char msg[512] = "";
	if (geteuid() != 0)
		return;
	ck_assert_int_eq(chown(dir, 65534, 65534), 0);
	ck_assert_int_eq(chmod(dir, 0770), 0);
	ck_assert_int_eq(sn_safefile_check("pid file", path, msg, sizeof msg), -1);
	ck_assert_ptr_nonnull(strstr(msg, "belongs to uid 65534"));
	/* the same directory writable by its owner only is fine */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(sn_safefile_check("pid file", path, msg, sizeof msg), 0);
	ck_assert_int_eq(chown(dir, 0, 0), 0);
}
END_TEST

START_TEST(test_symlink_path_refused)
{
	char msg[512] = "";
	ck_assert_int_eq(symlink(victim, path), 0);
	ck_assert_int_eq(sn_safefile_check("event log", path, msg, sizeof msg), -1);
	ck_assert_ptr_nonnull(strstr(msg, "is a symbolic link"));
	ck_assert_int_eq(sn_safefile_open_append(path), -ELOOP);
}
END_TEST

START_TEST(test_open_append_mode)
{
	struct stat st;
	mode_t old = umask(0);
	int fd = sn_safefile_open_append(path);
	umask(old);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_APPEND, 0);
	close(fd);
}
END_TEST

/* A link at the pid path is replaced by the new file, its target untouched. */
START_TEST(test_pid_file_symlink_replaced)
{
	char buf[64];
	struct stat st;
	ck_assert_int_eq(symlink(victim, path), 0);
	ck_assert_int_eq(sn_safefile_write_pid(path, 4242), 0);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	read_back(path, buf, sizeof buf);
	ck_assert_str_eq(buf, "4242\n");
	read_back(victim, buf, sizeof buf);
	ck_assert_str_eq(buf, "precious\n");
}
END_TEST

START_TEST(test_pid_file_missing_dir)
{
	char bad[320];
	snprintf(bad, sizeof bad, "%s/missing/pid", dir);
	ck_assert_int_eq(sn_safefile_write_pid(bad, 1), -ENOENT);
}
END_TEST

Suite *safefile_suite(void);

Suite *safefile_suite(void)
{
	Suite *s = suite_create("safefile");
	TCase *t = tcase_create("safefile");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_private_dir_accepted);
	tcase_add_test(t, test_world_writable_refused);
	tcase_add_test(t, test_sticky_owned_accepted);
	tcase_add_test(t, test_group_writable_other_owner_refused);
	tcase_add_test(t, test_symlink_path_refused);
	tcase_add_test(t, test_open_append_mode);
	tcase_add_test(t, test_pid_file_symlink_replaced);
	tcase_add_test(t, test_pid_file_missing_dir);
	suite_add_tcase(s, t);
	return s;
}
