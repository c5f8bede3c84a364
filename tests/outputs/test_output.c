/* test_output.c: json: outputs write whole lines, refuse links, reopen by path, and survive a failing disk.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outputs/logger.h"
#include "outputs/output.h"

static char dir[256], path[300];

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/tlsobs-output-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/events.json", dir);
	logger_configure(LOGGER_STDERR, LOGGER_ERROR); /* the failure warnings are expected here */
}

static void teardown(void)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(output, .init = setup, .fini = teardown);

static struct output *open_json(const char *p)
{
	char spec[400], err[512];
	snprintf(spec, sizeof spec, "json:%s", p);
	struct output *o = output_open(spec, NULL, err, sizeof err);
	cr_assert_not_null(o, "%s", err);
	return o;
}

/* A JSON object of exactly `len` bytes, its digits telling it apart from the others. */
static struct output_event event_of(char *buf, size_t len, int n)
{
	memset(buf, 'x', len);
	int head = snprintf(buf, len, "{\"n\":%d,\"p\":\"", n);
	buf[head] = 'x';
	buf[len - 2] = '"';
	buf[len - 1] = '}';
	return (struct output_event){.type = EVENT_TYPE_SESSION, .json = buf, .len = len};
}

static char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	static char data[1 << 16];
	*len = fread(data, 1, sizeof data, f);
	fclose(f);
	return data;
}

Test(output, creates_the_file_with_mode_0640_and_appends_whole_lines)
{
	mode_t old = umask(0);
	struct output *o = open_json(path);
	umask(old);
	char buf[64];
	for (int i = 0; i < 3; i++) {
		struct output_event ev = event_of(buf, sizeof buf, i);
		cr_assert_eq(output_write(o, &ev), 0);
	}
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640, "mode %o", st.st_mode & 0777);
	cr_assert_eq(st.st_size, 3 * 65);
	cr_assert_eq(output_close(o, NULL), 0);
}

Test(output, refuses_a_symbolic_link_planted_at_the_path)
{
	char victim[320], err[512], spec[400];
	snprintf(victim, sizeof victim, "%s/victim", dir);
	int fd = open(victim, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(symlink(victim, path), 0);
	snprintf(spec, sizeof spec, "json:%s", path);
	cr_assert_null(output_open(spec, NULL, err, sizeof err));
	cr_assert_not_null(strstr(err, "symbolic link"), "%s", err);
	struct stat st;
	cr_assert_eq(stat(victim, &st), 0);
	cr_assert_eq(st.st_size, 0, "the link's target is untouched");
}

Test(output, reopen_after_a_rename_writes_to_a_new_file_at_the_path)
{
	struct output *o = open_json(path);
	char buf[40], moved[320], err[512];
	struct output_event ev = event_of(buf, sizeof buf, 1);
	cr_assert_eq(output_write(o, &ev), 0);
	snprintf(moved, sizeof moved, "%s.1", path);
	cr_assert_eq(rename(path, moved), 0); /* what logrotate does */
	cr_assert_eq(output_write(o, &ev), 0, "still the moved file until SIGHUP");
	cr_assert_eq(output_reopen(o, err, sizeof err), 0, "%s", err);
	cr_assert_eq(output_write(o, &ev), 0);
	struct stat a, b;
	cr_assert_eq(stat(moved, &a), 0);
	cr_assert_eq(stat(path, &b), 0);
	cr_assert_eq(a.st_size, 2 * 41);
	cr_assert_eq(b.st_size, 41);
	cr_assert_eq(output_close(o, NULL), 0);
}

Test(output, a_failed_reopen_keeps_writing_to_the_old_file)
{
	struct output *o = open_json(path);
	char buf[40], err[512];
	struct output_event ev = event_of(buf, sizeof buf, 1);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkdir(path, 0700), 0); /* a directory now sits at the path */
	cr_assert_eq(output_reopen(o, err, sizeof err), -1);
	cr_assert_eq(output_write(o, &ev), 0);
	output_close(o, NULL);
}

/*
 * A file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes write(2) stop part-way through a line and then
 * fail with EFBIG, as a full disk does with ENOSPC: the partial line must be taken back, the event counted
 * as failed, and the next line, once there is room, must start on a line boundary.
 */
Test(output, a_line_cut_by_a_full_disk_is_taken_back_and_writing_resumes_on_a_boundary)
{
	signal(SIGXFSZ, SIG_IGN);
	struct output *o = open_json(path);
	char buf[300];
	struct rlimit lim = {1000, RLIM_INFINITY};
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int ok = 0, failed = 0;
	for (int i = 0; i < 5; i++) {
		struct output_event ev = event_of(buf, sizeof buf, i);
		if (output_write(o, &ev) == 0)
			ok++;
		else
			failed++;
	}
	cr_assert_eq(ok, 3, "three 301-byte lines fit in 1000 bytes");
	cr_assert_eq(failed, 2);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 3 * 301, "the cut fourth line was truncated away (size %lld)",
	             (long long)st.st_size);
	lim.rlim_cur = RLIM_INFINITY;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	struct output_event ev = event_of(buf, sizeof buf, 9);
	cr_assert_eq(output_write(o, &ev), 0, "space is back");
	uint64_t written, nfailed;
	output_counts(o, &written, &nfailed);
	cr_assert_eq(written, 4);
	cr_assert_eq(nfailed, 2);
	cr_assert_eq(output_close(o, NULL), -1, "events were lost: the close says so");
	size_t len;
	char *data = slurp(path, &len);
	cr_assert_eq(len, 4 * 301);
	for (size_t at = 0; at < len; at += 301) {
		cr_assert_eq(data[at], '{', "line at %zu starts an object", at);
		cr_assert_eq(data[at + 300], '\n');
	}
	cr_assert_eq(strncmp(data + 3 * 301, "{\"n\":9,", 7), 0, "the line after the gap is the new event");
}

Test(output, a_device_that_is_full_counts_every_event_as_failed)
{
	struct output *o = open_json("/dev/full");
	char buf[40];
	struct output_event ev = event_of(buf, sizeof buf, 1);
	cr_assert_eq(output_write(o, &ev), -1);
	cr_assert_eq(output_write(o, &ev), -1);
	cr_assert_eq(output_fatal(o), 0, "ENOSPC is not the end of the run");
	uint64_t written, failed;
	output_counts(o, &written, &failed);
	cr_assert_eq(failed, 2);
	cr_assert_eq(written, 0);
	output_close(o, NULL);
}

Test(output, standard_output_closed_by_its_reader_is_fatal)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	cr_assert_neq(dup2(p[1], STDOUT_FILENO), -1);
	close(p[1]);
	close(p[0]); /* the reader is gone */
	signal(SIGPIPE, SIG_IGN);
	struct output *o = open_json("-");
	char buf[40];
	struct output_event ev = event_of(buf, sizeof buf, 1);
	cr_assert_eq(output_write(o, &ev), -1);
	cr_assert_eq(output_fatal(o), EPIPE);
	output_close(o, NULL);
}
