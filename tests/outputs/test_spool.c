/* test_spool.c: the disk spool keeps, replays, bounds and recovers records exactly. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outputs/private_dir.h"
#include "outputs/spool.h"
#include "test_support.h"

/* ---- helpers ---- */

static char dir[256];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/tlsobs-spool-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void remove_dir(void)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(spool, .init = make_dir, .fini = remove_dir);

static struct spool *open_spool(uint64_t max_bytes, uint64_t segment_bytes)
{
	char err[512] = "";
	struct spool *s = spool_open(dir, max_bytes, segment_bytes, err, sizeof err);
	cr_assert_not_null(s, "spool_open: %s", err);
	return s;
}

/* Record i: payload "event-<i>" (padded to `pad` bytes when larger), key "k<i>", type i % 4. */
static void append_n(struct spool *s, int from, int n, size_t pad)
{
	for (int i = from; i < from + n; i++) {
		char payload[4096], key[32];
		int len = snprintf(payload, sizeof payload, "event-%d", i);
		if ((size_t)len < pad) {
			memset(payload + len, '.', pad - (size_t)len);
			len = (int)pad;
		}
		int klen = snprintf(key, sizeof key, "k%d", i);
		cr_assert_eq(spool_append(s, (uint8_t)(i % 4), key, (size_t)klen, payload, (size_t)len), 0);
	}
}

/* Reads the next record and returns its event number (from "event-<i>"), checking key and type; -1 at the
 * end. */
static int next_event(struct spool *s, uint64_t *id)
{
	uint8_t type;
	const char *key, *payload;
	size_t keylen, len;
	uint64_t dummy;
	if (spool_next(s, id ? id : &dummy, &type, &key, &keylen, &payload, &len) != 0)
		return -1;
	cr_assert_geq(len, 7);
	cr_assert(memcmp(payload, "event-", 6) == 0);
	char text[64];
	snprintf(text, sizeof text, "%.*s", (int)(len < 63 ? len : 63),
	         payload); /* payloads are not terminated */
	int i = atoi(text + 6);
	char want[32];
	snprintf(want, sizeof want, "k%d", i);
	cr_assert_eq(keylen, strlen(want));
	cr_assert(memcmp(key, want, keylen) == 0, "the key travels with its payload");
	cr_assert_eq(type, i % 4, "the type travels with its payload");
	return i;
}

static int count_segments(void)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "spool-", 6) == 0 && strstr(e->d_name, ".seg") != NULL;
	closedir(d);
	return n;
}

/* Path of the only (or first) segment file. */
static void first_segment(char *out, size_t cap)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *e;
	char best[256] = "";
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "spool-", 6) == 0 && (best[0] == '\0' || strcmp(e->d_name, best) < 0))
			snprintf(best, sizeof best, "%s", e->d_name);
	closedir(d);
	cr_assert(best[0] != '\0', "a segment file exists");
	snprintf(out, cap, "%s/%s", dir, best);
}

static off_t file_size(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

/* ---- order, ack, rewind ---- */

Test(spool, hands_out_records_oldest_first_with_their_type_and_key)
{
	struct spool *s = open_spool(1 << 20, 1 << 16);
	append_n(s, 0, 50, 0);
	for (int i = 0; i < 50; i++)
		cr_assert_eq(next_event(s, NULL), i);
	cr_assert_eq(next_event(s, NULL), -1, "nothing after the last record");
	cr_assert_eq(spool_stats(s)->records, 50, "handing out is not acking");
	spool_close(s);
}

Test(spool, hands_out_records_appended_after_the_reader_caught_up)
{
	struct spool *s = open_spool(1 << 20, 200);
	append_n(s, 0, 3, 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(next_event(s, NULL), i);
	cr_assert_eq(next_event(s, NULL), -1);
	append_n(s, 3, 20, 0); /* some into the same segment, then new ones */
	for (int i = 3; i < 23; i++)
		cr_assert_eq(next_event(s, NULL), i);
	spool_close(s);
}

Test(spool, forgets_acked_records_and_deletes_a_segment_once_all_of_it_is_acked)
{
	struct spool *s = open_spool(1 << 20, 50); /* two records per segment */
	append_n(s, 0, 10, 0);
	int segments = count_segments();
	cr_assert_geq(segments, 4);
	uint64_t ids[10];
	for (int i = 0; i < 10; i++)
		cr_assert_eq(next_event(s, &ids[i]), i);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(spool_ack(s, ids[i]), 0);
	cr_assert_eq(spool_stats(s)->records, 0);
	cr_assert_eq(spool_stats(s)->acked, 10);
	cr_assert_eq(spool_stats(s)->bytes, 0);
	cr_assert_eq(count_segments(), 0, "fully acked segments are deleted");
	cr_assert_eq(spool_ack(s, ids[3]), -1, "a second ack of the same record is refused");
	spool_close(s);
}

Test(spool, hands_out_unacked_records_again_after_a_rewind_but_not_acked_ones)
{
	struct spool *s = open_spool(1 << 20, 150);
	append_n(s, 0, 10, 0);
	uint64_t ids[10];
	for (int i = 0; i < 10; i++)
		cr_assert_eq(next_event(s, &ids[i]), i);
	for (int i = 0; i < 10; i += 2)
		spool_ack(s, ids[i]);
	spool_rewind(s);
	for (int i = 1; i < 10; i += 2)
		cr_assert_eq(next_event(s, NULL), i);
	cr_assert_eq(next_event(s, NULL), -1);
	spool_close(s);
}

/* ---- restart ---- */

Test(spool, replays_every_unacked_record_after_a_restart_across_segments)
{
	struct spool *s = open_spool(1 << 20, 120);
	append_n(s, 0, 30, 0);
	spool_close(s);
	s = open_spool(1 << 20, 120);
	cr_assert_eq(spool_stats(s)->records, 30);
	cr_assert_eq(spool_stats(s)->recovered, 30);
	cr_assert_eq(spool_stats(s)->recovered_by_type[1], 8, "records 1, 5, ..., 29 are type 1");
	for (int i = 0; i < 30; i++)
		cr_assert_eq(next_event(s, NULL), i);
	append_n(s, 30, 5, 0); /* new records go after the recovered ones */
	for (int i = 30; i < 35; i++)
		cr_assert_eq(next_event(s, NULL), i);
	spool_close(s);
}

Test(spool, does_not_replay_acked_records_after_a_clean_restart)
{
	struct spool *s = open_spool(1 << 20, 1 << 16); /* one segment, partly acked */
	append_n(s, 0, 10, 0);
	uint64_t id;
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(next_event(s, &id), i);
		spool_ack(s, id);
	}
	spool_close(s);
	s = open_spool(1 << 20, 1 << 16);
	cr_assert_eq(spool_stats(s)->records, 6);
	for (int i = 4; i < 10; i++)
		cr_assert_eq(next_event(s, NULL), i);
	spool_close(s);
}

Test(spool, replays_records_of_a_process_that_died_without_closing)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) { /* the crash: appends, then exits with no spool_close */
		char err[256];
		struct spool *s = spool_open(dir, 1 << 20, 100, err, sizeof err);
		if (!s)
			_exit(1);
		for (int i = 0; i < 12; i++) {
			char p[32], k[32];
			int len = snprintf(p, sizeof p, "event-%d", i),
			    klen = snprintf(k, sizeof k, "k%d", i);
			if (spool_append(s, (uint8_t)(i % 4), k, (size_t)klen, p, (size_t)len) != 0)
				_exit(1);
		}
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct spool *s = open_spool(1 << 20, 100);
	for (int i = 0; i < 12; i++)
		cr_assert_eq(next_event(s, NULL), i);
	cr_assert_eq(spool_stats(s)->corrupt, 0);
	spool_close(s);
}

/* ---- bounds ---- */

Test(spool, drops_the_oldest_whole_segments_when_full_and_counts_each_record)
{
	/* Records of 12 + 3 + key + 100 bytes, one segment each: exactly 10 fit in 1200 bytes. */
	struct spool *s = open_spool(1200, 1);
	append_n(s, 0, 10, 100);
	cr_assert_eq(spool_stats(s)->dropped, 0);
	append_n(s, 10, 7, 100);
	const struct spool_stats *st = spool_stats(s);
	cr_assert_eq(st->dropped, 7, "one oldest record per newer one");
	cr_assert_eq(st->records, 10);
	cr_assert_leq(st->bytes, 1200);
	cr_assert_eq(st->dropped_by_type[0] + st->dropped_by_type[1] + st->dropped_by_type[2] +
	                 st->dropped_by_type[3],
	             7);
	cr_assert_eq(st->dropped_by_type[0], 2, "records 0 and 4 were type 0");
	for (int i = 7; i < 17; i++)
		cr_assert_eq(next_event(s, NULL), i, "the newest records are kept");
	spool_close(s);
}

Test(spool, drops_all_records_of_a_dropped_segment_even_if_it_held_many)
{
	struct spool *s = open_spool(1000, 500);
	append_n(s, 0, 8,
	         100); /* 4 records (about 118 bytes each) in the first segment, then 4 in the second */
	append_n(s, 8, 1, 100);
	cr_assert_eq(spool_stats(s)->dropped, 4);
	cr_assert_eq(spool_stats(s)->records, 5);
	cr_assert_eq(next_event(s, NULL), 4);
	spool_close(s);
}

Test(spool, refuses_a_record_larger_than_the_spool_and_counts_it_dropped)
{
	struct spool *s = open_spool(200, 100);
	append_n(s, 0, 1, 0);
	char big[300];
	memset(big, 'x', sizeof big);
	cr_assert_eq(spool_append(s, 2, "k", 1, big, sizeof big), -1);
	cr_assert_eq(spool_append(s, SPOOL_TYPES, "k", 1, "event-9", 7), -1, "types are below SPOOL_TYPES");
	cr_assert_eq(spool_stats(s)->dropped, 2);
	cr_assert_eq(spool_stats(s)->dropped_by_type[2], 1);
	cr_assert_eq(spool_stats(s)->records, 1, "the record already there stays");
	spool_close(s);
}

Test(spool, refuses_the_ack_of_a_record_it_dropped_meanwhile)
{
	struct spool *s = open_spool(300, 1);
	append_n(s, 0, 2, 100);
	uint64_t id;
	cr_assert_eq(next_event(s, &id), 0);
	append_n(s, 2, 1, 100); /* room for two: record 0 goes */
	cr_assert_eq(spool_stats(s)->dropped, 1);
	cr_assert_eq(spool_ack(s, id), -1);
	cr_assert_eq(next_event(s, NULL), 1, "the reader goes on with what is left");
	spool_close(s);
}

/* ---- corruption ---- */

Test(spool, detects_a_torn_last_record_counts_it_and_cuts_it_off)
{
	struct spool *s = open_spool(1 << 20, 1 << 16);
	append_n(s, 0, 5, 0);
	spool_close(s);
	char path[512];
	first_segment(path, sizeof path);
	cr_assert_eq(truncate(path, file_size(path) - 3), 0); /* a crash in the middle of the last write */
	s = open_spool(1 << 20, 1 << 16);
	cr_assert_eq(spool_stats(s)->corrupt, 1);
	cr_assert_eq(spool_stats(s)->records, 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(next_event(s, NULL), i);
	cr_assert_eq(next_event(s, NULL), -1, "the torn record is never read as an event");
	append_n(s, 5, 1, 0);
	cr_assert_eq(next_event(s, NULL), 5);
	spool_close(s);
	s = open_spool(1 << 20, 1 << 16);
	cr_assert_eq(spool_stats(s)->corrupt, 0, "the torn tail was cut off: not counted twice");
	cr_assert_eq(spool_stats(s)->records, 5);
	spool_close(s);
}

Test(spool, detects_a_changed_byte_by_its_crc)
{
	struct spool *s = open_spool(1 << 20, 1 << 16);
	append_n(s, 0, 3, 0);
	spool_close(s);
	char path[512];
	first_segment(path, sizeof path);
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	char c;
	off_t at = file_size(path) - 2; /* inside the last payload */
	cr_assert_eq(pread(fd, &c, 1, at), 1);
	c ^= 0x20;
	cr_assert_eq(pwrite(fd, &c, 1, at), 1);
	close(fd);
	s = open_spool(1 << 20, 1 << 16);
	cr_assert_eq(spool_stats(s)->corrupt, 1);
	cr_assert_eq(spool_stats(s)->records, 2);
	spool_close(s);
}

Test(spool, survives_every_truncation_of_a_segment_file)
{
	struct spool *s = open_spool(1 << 20, 1 << 16);
	append_n(s, 0, 6, 20);
	spool_close(s);
	char path[512];
	first_segment(path, sizeof path);
	size_t len;
	uint8_t *whole = test_read_file(path, &len);
	cr_assert_not_null(whole);
	size_t record = len / 6; /* all records have the same size */
	for (size_t cut = 0; cut <= len; cut++) {
		FILE *f = fopen(path, "wb");
		cr_assert_not_null(f);
		cr_assert_eq(fwrite(whole, 1, cut, f), cut);
		fclose(f);
		s = open_spool(1 << 20, 1 << 16);
		size_t whole_records = cut / record;
		cr_assert_eq(spool_stats(s)->records, whole_records, "cut at %zu", cut);
		cr_assert_eq(spool_stats(s)->corrupt, cut % record ? 1 : 0, "cut at %zu", cut);
		for (size_t i = 0; i < whole_records; i++)
			cr_assert_eq(next_event(s, NULL), (int)i);
		cr_assert_eq(next_event(s, NULL), -1);
		spool_close(s);
	}
	free(whole);
}

Test(spool, ignores_files_that_are_not_segments)
{
	char path[512];
	snprintf(path, sizeof path, "%s/README", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("not a segment\n", f);
	fclose(f);
	struct spool *s = open_spool(1 << 20, 1 << 16);
	cr_assert_eq(spool_stats(s)->records, 0);
	cr_assert_eq(spool_stats(s)->corrupt, 0);
	spool_close(s);
}

/* ---- directory ---- */

Test(spool, creates_its_directory_and_missing_parents)
{
	char nested[512];
	snprintf(nested, sizeof nested, "%s/a/b/spool", dir);
	char err[512];
	struct spool *s = spool_open(nested, 1 << 20, 1 << 16, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	struct stat st;
	cr_assert_eq(stat(nested, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(spool_append(s, 0, "k", 1, "event-0", 7), 0);
	spool_close(s);
}

Test(spool, refuses_a_directory_below_a_regular_file_with_a_message)
{
	char file[512], below[600];
	snprintf(file, sizeof file, "%s/file", dir);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(below, sizeof below, "%s/spool", file);
	char err[512] = "";
	cr_assert_null(spool_open(below, 1 << 20, 1 << 16, err, sizeof err));
	cr_assert(strstr(err, below) != NULL, "the message names the directory: %s", err);
	cr_assert_null(spool_open(file, 1 << 20, 1 << 16, err, sizeof err), "a file is not a directory");
}

/* ---- a directory someone else could write in (issue 13) ---- */

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

Test(spool, a_planted_symlink_segment_is_never_followed_nor_truncated_and_is_removed)
{
	char victim[512], link[512], victim_dir[300];
	snprintf(victim_dir, sizeof victim_dir, "%s.victim", dir);
	cr_assert_eq(mkdir(victim_dir, 0700), 0);
	snprintf(victim, sizeof victim, "%s/secret", victim_dir);
	write_file(victim, "not a spool record, must stay whole\n", 0600);
	snprintf(link, sizeof link, "%s/spool-0000000000000001.seg", dir);
	cr_assert_eq(symlink(victim, link), 0);
	struct spool *s = open_spool(1 << 20, 1 << 16);
	struct stat st;
	cr_assert_eq(stat(victim, &st), 0);
	cr_assert_eq(st.st_size, 36, "the target keeps its %ld bytes", (long)st.st_size);
	cr_assert_eq(lstat(link, &st), -1, "the link's name is gone");
	cr_assert_eq(spool_stats(s)->corrupt, 1);
	cr_assert_eq(spool_stats(s)->recovered, 0);
	append_n(s, 0, 3, 0); /* and the spool works on */
	cr_assert_eq(spool_stats(s)->records, 3);
	spool_close(s);
	unlink(victim);
	rmdir(victim_dir);
}

Test(spool, a_planted_hard_link_or_fifo_is_not_read_and_is_removed)
{
	char victim[512], hard[512], fifo[512];
	snprintf(victim, sizeof victim, "%s/elsewhere", dir);
	write_file(victim, "x", 0600);
	snprintf(hard, sizeof hard, "%s/spool-0000000000000001.seg", dir);
	cr_assert_eq(link(victim, hard), 0);
	snprintf(fifo, sizeof fifo, "%s/spool-0000000000000002.seg", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	struct spool *s = open_spool(1 << 20, 1 << 16);
	cr_assert_eq(spool_stats(s)->corrupt, 2);
	struct stat st;
	cr_assert_eq(stat(victim, &st), 0);
	cr_assert_eq(st.st_size, 1, "the other name's file is untouched");
	cr_assert_eq(lstat(hard, &st), -1);
	cr_assert_eq(lstat(fifo, &st), -1);
	spool_close(s);
}

Test(spool, refuses_a_group_or_world_writable_directory_and_a_symlinked_one)
{
	char err[512] = "";
	cr_assert_eq(chmod(dir, 0777), 0);
	cr_assert_null(spool_open(dir, 1 << 20, 1 << 16, err, sizeof err));
	cr_assert(strstr(err, "world-writable") != NULL, "%s", err);
	cr_assert_eq(chmod(dir, 0770), 0);
	cr_assert_null(spool_open(dir, 1 << 20, 1 << 16, err, sizeof err));
	cr_assert_eq(chmod(dir, 0700), 0);
	char real[512], link[512];
	snprintf(real, sizeof real, "%s/real", dir);
	snprintf(link, sizeof link, "%s/link", dir);
	cr_assert_eq(mkdir(real, 0700), 0);
	cr_assert_eq(symlink(real, link), 0);
	cr_assert_null(spool_open(link, 1 << 20, 1 << 16, err, sizeof err));
	cr_assert(strstr(err, "symbolic link") != NULL, "%s", err);
	struct spool *s = spool_open(real, 1 << 20, 1 << 16, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	spool_close(s);
}

Test(spool, refuses_a_directory_owned_by_another_user)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give the directory away");
	cr_assert_eq(chown(dir, 65534, 65534), 0);
	char err[512] = "";
	cr_assert_null(spool_open(dir, 1 << 20, 1 << 16, err, sizeof err));
	cr_assert(strstr(err, "owned by uid 65534") != NULL, "%s", err);
}

Test(spool, with_an_owner_the_directory_and_recovered_segments_become_theirs)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to chown");
	struct spool *s = open_spool(1 << 20, 1 << 16);
	append_n(s, 0, 2, 0);
	spool_close(s); /* root's segment, 0600, from a run without -u */
	struct private_dir_owner owner = {true, 65534, 65534};
	char err[512] = "";
	s = spool_open_owned(dir, 1 << 20, 1 << 16, &owner, err, sizeof err);
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(spool_stats(s)->recovered, 2);
	struct stat st;
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert(st.st_uid == 65534 && st.st_gid == 65534);
	char seg[512];
	snprintf(seg, sizeof seg, "%s/spool-0000000000000000.seg", dir);
	cr_assert_eq(stat(seg, &st), 0);
	cr_assert(st.st_uid == 65534 && (st.st_mode & 07777) == 0600, "uid %u mode %o", st.st_uid,
	          st.st_mode);
	spool_close(s);
}
