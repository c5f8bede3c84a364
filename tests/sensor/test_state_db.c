/*
 * test_state_db.c: the persistent state behind the partner-policy step
 * (sensor/state/state_db.h), on real SQLite files in a fresh temporary directory:
 * survival across close/open, the batched queue and its cap, the coverage and
 * expiry reports, thresholds alerted once, and clear errors for bad files.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sensor/state/state_db.h"
#include "state_db_peek.h"

#define SEC 1000000ull
#define DAY (86400ull * SEC)
/* 2023-11-14 22:13:20 UTC */
#define T0 (1700000000ull * SEC)

static char dir[64];
static char path[128];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_state_db.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.db", dir);
}

static void remove_dir(void)
{
	char cmd[128];
	chmod(dir, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(state_db, .init = make_dir, .fini = remove_dir);

static struct state_db *open_ok(void)
{
	char err[256] = "";
	struct state_db *db = state_db_open(path, err, sizeof(err));
	cr_assert_not_null(db, "open failed: %s", err);
	return db;
}

static struct state_server_note server(const char *ip, uint64_t t, bool starttls, const char *version)
{
	struct state_server_note n = {.port = 25, .time_us = t, .starttls_offered = starttls};
	snprintf(n.ip, sizeof(n.ip), "%s", ip);
	snprintf(n.mx, sizeof(n.mx), "mx.%s.example", ip);
	snprintf(n.tls_version, sizeof(n.tls_version), "%s", version);
	snprintf(n.cipher, sizeof(n.cipher), "%s", version[0] ? "TLS_AES_128_GCM_SHA256" : "");
	return n;
}

static struct state_cert_note cert(char hexdigit, int64_t not_after, const char *ip, uint64_t t)
{
	struct state_cert_note n = {.not_after = not_after, .time_us = t, .server_port = 25};
	memset(n.sha256, hexdigit, 64);
	snprintf(n.subject, sizeof(n.subject), "CN=cert-%c", hexdigit);
	snprintf(n.sans, sizeof(n.sans), "mx%c.example.org", hexdigit);
	snprintf(n.issuer, sizeof(n.issuer), "CN=Example CA");
	snprintf(n.server_ip, sizeof(n.server_ip), "%s", ip);
	return n;
}

static struct state_partner_note session(const char *partner, uint64_t t, const char *version,
                                         const char *failure)
{
	struct state_partner_note n = {
	    .time_us = t, .encrypted = version[0] != '\0', .cleartext = !version[0] && !failure[0]};
	snprintf(n.partner, sizeof(n.partner), "%s", partner);
	snprintf(n.tls_version, sizeof(n.tls_version), "%s", version);
	snprintf(n.failure, sizeof(n.failure), "%s", failure);
	return n;
}

Test(state_db, creates_the_schema_and_keeps_what_was_flushed_across_a_restart)
{
	struct state_db *db = open_ok();
	struct state_server_note n = server("192.0.2.1", T0, true, "TLSv1.2");
	cr_assert(state_db_note_server(db, &n));
	n = server("192.0.2.1", T0 + 10 * SEC, true, "TLSv1.3");
	cr_assert(state_db_note_server(db, &n));
	n = server("192.0.2.1", T0 + 20 * SEC, false, "TLSv1.3");
	cr_assert(state_db_note_server(db, &n));
	cr_assert_eq(state_db_flush(db), 3);
	state_db_close(db);

	db = open_ok();
	uint64_t when = 0;
	cr_assert_eq(state_db_peek_starttls(path, "192.0.2.1", 25, &when), 1);
	cr_assert_eq(when, T0 + 10 * SEC, "last time offered");
	cr_assert_eq(state_db_peek_starttls(path, "192.0.2.1", 587, &when), 0);
	cr_assert_eq(state_db_peek_starttls(path, "198.51.100.9", 25, &when), 0);

	char vs[8][64];
	cr_assert_eq(state_db_peek_values(path, "192.0.2.1", 25, STATE_VALUE_TLS_VERSION, vs, 8), 2,
	             "a set: each version once");
	cr_assert_str_eq(vs[0], "TLSv1.2");
	cr_assert_str_eq(vs[1], "TLSv1.3");
	cr_assert_eq(state_db_peek_values(path, "192.0.2.1", 25, STATE_VALUE_CIPHER, vs, 8), 1);
	state_db_close(db);

	/* A third open over a current schema migrates nothing and still works. */
	db = open_ok();
	cr_assert_eq(state_db_peek_starttls(path, "192.0.2.1", 25, NULL), 1);
	state_db_close(db);
}

Test(state_db, queued_notes_are_invisible_until_flushed)
{
	struct state_db *db = open_ok();
	struct state_server_note n = server("192.0.2.2", T0, true, "");
	cr_assert(state_db_note_server(db, &n));
	struct state_db_stats st;
	state_db_get_stats(db, &st);
	cr_assert_eq(st.queued, 1);
	cr_assert_eq(state_db_peek_starttls(path, "192.0.2.2", 25, NULL), 0, "not written before flush");
	cr_assert_eq(state_db_flush(db), 1);
	cr_assert_eq(state_db_peek_starttls(path, "192.0.2.2", 25, NULL), 1);
	state_db_get_stats(db, &st);
	cr_assert_eq(st.queued, 0);
	cr_assert_eq(st.written, 1);
	cr_assert_eq(state_db_flush(db), 0, "an empty flush writes nothing");
	state_db_close(db);
}

Test(state_db, a_full_queue_drops_and_counts_notes_and_accepts_again_after_a_flush)
{
	struct state_db *db = open_ok();
	struct state_partner_note n = session("partner.example", T0, "TLSv1.3", "");
	for (size_t i = 0; i < STATE_DB_QUEUE_CAP; i++)
		cr_assert(state_db_note_partner_session(db, &n));
	cr_assert_not(state_db_note_partner_session(db, &n));
	cr_assert_not(state_db_note_partner_session(db, &n));
	struct state_db_stats st;
	state_db_get_stats(db, &st);
	cr_assert_eq(st.queued, STATE_DB_QUEUE_CAP);
	cr_assert_eq(st.dropped, 2);
	cr_assert_eq(state_db_flush(db), STATE_DB_QUEUE_CAP);
	cr_assert(state_db_note_partner_session(db, &n));
	state_db_close(db);
}

struct coverage_log {
	size_t n;
	struct state_partner_coverage c[4];
	char partner[4][64], last_failure[4][64];
};

static int collect_coverage(void *ctx, const struct state_partner_coverage *c)
{
	struct coverage_log *log = ctx;
	if (log->n < 4) {
		log->c[log->n] = *c;
		snprintf(log->partner[log->n], 64, "%s", c->partner);
		snprintf(log->last_failure[log->n], 64, "%s", c->last_failure_type);
		log->n++;
	}
	return 0;
}

Test(state_db, coverage_sums_each_partner_over_the_days_asked_for)
{
	struct state_db *db = open_ok();
	/* Day 1 (2023-11-14): b.example two sessions, one failed. */
	struct state_partner_note notes[] = {
	    session("b.example", T0, "TLSv1.2", ""),
	    session("b.example", T0 + SEC, "", "handshake_failure"),
	    /* Day 2 (2023-11-15): a.example four sessions, b.example one. */
	    session("a.example", T0 + DAY, "TLSv1.3", ""),
	    session("a.example", T0 + DAY + 1, "TLSv1.3", ""),
	    session("a.example", T0 + DAY + 2, "TLSv1.2", ""),
	    session("a.example", T0 + DAY + 3, "", ""),
	    session("b.example", T0 + DAY + 5 * SEC, "", "starttls_stripped"),
	    session("b.example", T0 + DAY + 4 * SEC, "", "handshake_failure"),
	};
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		cr_assert(state_db_note_partner_session(db, &notes[i]));
	cr_assert_eq(state_db_flush(db), 8);

	struct coverage_log all = {0};
	cr_assert_eq(state_db_partner_coverage(db, NULL, collect_coverage, &all), 0);
	cr_assert_eq(all.n, 2);
	cr_assert_str_eq(all.partner[0], "a.example");
	cr_assert_eq(all.c[0].sessions, 4);
	cr_assert_eq(all.c[0].encrypted, 3);
	cr_assert_eq(all.c[0].cleartext, 1);
	cr_assert_float_eq(all.c[0].encrypted_share, 0.75, 1e-9);
	cr_assert_eq(all.c[0].n_versions, 2);
	cr_assert_str_eq(all.c[0].versions[0].name, "TLSv1.3", "most used first");
	cr_assert_eq(all.c[0].versions[0].count, 2);
	cr_assert_str_eq(all.c[0].versions[1].name, "TLSv1.2");
	cr_assert_eq(all.c[0].n_failures, 0);
	cr_assert_eq(all.c[0].last_failure_us, 0);
	cr_assert_str_eq(all.last_failure[0], "");

	cr_assert_str_eq(all.partner[1], "b.example");
	cr_assert_eq(all.c[1].sessions, 4);
	cr_assert_eq(all.c[1].encrypted, 1);
	cr_assert_float_eq(all.c[1].encrypted_share, 0.25, 1e-9);
	cr_assert_eq(all.c[1].n_failures, 2);
	cr_assert_str_eq(all.c[1].failures[0].name, "handshake_failure");
	cr_assert_eq(all.c[1].failures[0].count, 2, "failures summed across days");
	cr_assert_str_eq(all.c[1].failures[1].name, "starttls_stripped");
	cr_assert_eq(all.c[1].last_failure_us, T0 + DAY + 5 * SEC, "latest failure, not the last noted");
	cr_assert_str_eq(all.last_failure[1], "starttls_stripped");

	struct coverage_log day2 = {0};
	cr_assert_eq(state_db_partner_coverage(db, "2023-11-15", collect_coverage, &day2), 0);
	cr_assert_eq(day2.n, 2);
	cr_assert_eq(day2.c[1].sessions, 2, "day 1 left out");
	cr_assert_eq(day2.c[1].encrypted, 0);
	cr_assert_eq(day2.c[1].n_versions, 0);
	cr_assert_eq(day2.c[1].failures[0].count, 1);

	struct coverage_log later = {0};
	cr_assert_eq(state_db_partner_coverage(db, "2023-11-16", collect_coverage, &later), 0);
	cr_assert_eq(later.n, 0);
	state_db_close(db);
}

struct cert_log {
	size_t n;
	char sha[4][65];
	int64_t not_after[4];
	size_t n_servers[4];
	char first_server[4][64];
	uint32_t thresholds[4];
};

static int collect_cert(void *ctx, const struct state_certificate *c)
{
	struct cert_log *log = ctx;
	if (log->n < 4) {
		snprintf(log->sha[log->n], 65, "%s", c->sha256);
		log->not_after[log->n] = c->not_after;
		log->n_servers[log->n] = c->n_servers;
		cr_assert_eq(c->servers_total, c->n_servers);
		if (c->n_servers)
			snprintf(log->first_server[log->n], 64, "%s:%u", c->servers[0].ip,
			         c->servers[0].port);
		log->thresholds[log->n] = c->thresholds_done;
		log->n++;
	}
	return 0;
}

Test(state_db, certificates_come_soonest_expiry_first_with_the_servers_they_were_seen_on)
{
	struct state_db *db = open_ok();
	struct state_cert_note notes[] = {
	    cert('a', 1800000000, "192.0.2.10", T0),
	    cert('b', 1750000000, "192.0.2.20", T0),
	    cert('b', 1750000000, "192.0.2.11", T0 + SEC),
	    cert('b', 1750000000, "192.0.2.20", T0 + 2 * SEC), /* the same link again */
	    cert('c', 1900000000, "", T0),
	};
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		cr_assert(state_db_note_certificate(db, &notes[i]));
	cr_assert_eq(state_db_flush(db), 5);

	struct cert_log log = {0};
	cr_assert_eq(state_db_certificates_by_expiry(db, collect_cert, &log), 0);
	cr_assert_eq(log.n, 3);
	cr_assert_eq(log.sha[0][0], 'b');
	cr_assert_eq(log.not_after[0], 1750000000);
	cr_assert_eq(log.n_servers[0], 2);
	cr_assert_str_eq(log.first_server[0], "192.0.2.11:25");
	cr_assert_eq(log.sha[1][0], 'a');
	cr_assert_eq(log.n_servers[1], 1);
	cr_assert_eq(log.sha[2][0], 'c');
	cr_assert_eq(log.n_servers[2], 0);
	state_db_close(db);
}

Test(state_db, each_expiry_threshold_is_marked_once_and_remembered_after_a_restart)
{
	struct state_db *db = open_ok();
	struct state_cert_note c = cert('d', 1750000000, "192.0.2.30", T0);
	char sha[65];
	snprintf(sha, sizeof(sha), "%s", c.sha256);
	struct cert_log unknown = {0};
	cr_assert_eq(state_db_certificates_by_expiry(db, collect_cert, &unknown), 0);
	cr_assert_eq(unknown.n, 0, "unknown certificate");

	/* Marked before the certificate itself was flushed: the row is made, then completed by the flush. */
	cr_assert_eq(state_db_mark_threshold(db, sha, 2), 1);
	cr_assert_eq(state_db_mark_threshold(db, sha, 2), 0, "second alert for the same threshold refused");
	cr_assert(state_db_note_certificate(db, &c));
	cr_assert_eq(state_db_flush(db), 1);
	cr_assert_eq(state_db_mark_threshold(db, sha, 0), 1);
	cr_assert_eq(state_db_mark_threshold(db, sha, 32), -1);
	cr_assert_str_neq(state_db_error(db), "");
	state_db_close(db);

	db = open_ok();
	cr_assert_eq(state_db_mark_threshold(db, sha, 0), 0);
	struct cert_log log = {0};
	cr_assert_eq(state_db_certificates_by_expiry(db, collect_cert, &log), 0);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.thresholds[0], (1u << 2) | 1u);
	cr_assert_eq(log.not_after[0], 1750000000, "the flushed note filled in the placeholder row");
	state_db_close(db);
}

Test(state_db, a_file_that_is_not_a_database_is_refused_with_a_clear_error)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	char junk[4096];
	memset(junk, 'x', sizeof(junk));
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	char err[256] = "";
	cr_assert_null(state_db_open(path, err, sizeof(err)));
	cr_assert(strstr(err, "not a database"), "error was: %s", err);
	cr_assert(strstr(err, path), "names the file: %s", err);
}

Test(state_db, a_database_in_a_read_only_directory_is_refused_with_an_error)
{
	cr_assert_eq(chmod(dir, 0555), 0);
	/* root ignores directory permissions: try as an unprivileged user in a child. */
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(2);
		char err[256] = "";
		struct state_db *db = state_db_open(path, err, sizeof(err));
		_exit(db == NULL && err[0] != '\0' ? 0 : 1);
	}
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "open in a read-only directory should fail with a message");
}

Test(state_db, closing_flushes_what_is_still_queued_and_null_is_a_no_op)
{
	struct state_db *db = open_ok();
	struct state_server_note n = server("192.0.2.3", T0, true, "TLSv1.3");
	cr_assert(state_db_note_server(db, &n));
	state_db_close(db);
	state_db_close(NULL);
	db = open_ok();
	cr_assert_eq(state_db_peek_starttls(path, "192.0.2.3", 25, NULL), 1);
	state_db_close(db);
}

/* ---- the certificate's partner, the rules engine's records ---- */

static int first_cert_partner(void *ctx, const struct state_certificate *c)
{
	snprintf(ctx, 64, "%s", c->partner);
	return 1;
}

Test(state_db, a_certificate_keeps_the_last_partner_it_was_seen_with)
{
	struct state_db *db = open_ok();
	struct state_cert_note n = cert('a', 1800000000, "198.51.100.25", T0);
	snprintf(n.partner, sizeof(n.partner), "bank.example");
	cr_assert(state_db_note_certificate(db, &n));
	n.partner[0] = '\0'; /* a later unattributed session does not erase it */
	n.time_us = T0 + SEC;
	cr_assert(state_db_note_certificate(db, &n));
	cr_assert_geq(state_db_flush(db), 2);
	char partner[64] = "";
	cr_assert_eq(state_db_certificates_by_expiry(db, first_cert_partner, partner), 0);
	cr_assert_str_eq(partner, "bank.example");
	state_db_close(db);
}

struct rows {
	size_t n;
	uint64_t seen[8];
	char record[8][16];
};

static int collect_row(void *ctx, const uint8_t *key, size_t key_len, uint64_t seen_us, const void *record,
                       size_t record_len)
{
	struct rows *r = ctx;
	cr_assert_eq(key_len, 3);
	if (r->n < 8) {
		r->seen[r->n] = seen_us;
		snprintf(r->record[r->n++], 16, "%.*s", (int)record_len, (const char *)record);
	}
	return 0;
}

struct history_batch {
	uint64_t prune_before;
	bool fail;
};

static int put_rows(void *ctx, struct state_db *db)
{
	const struct history_batch *b = ctx;
	cr_assert_eq(state_db_history_put(db, "t.v1", (const uint8_t *)"k01", 3, 100, "old", 3), 0);
	cr_assert_eq(state_db_history_put(db, "t.v1", (const uint8_t *)"k02", 3, 300, "new", 3), 0);
	cr_assert_eq(state_db_history_put(db, "t.v1", (const uint8_t *)"k03", 3, 200, "mid", 3), 0);
	cr_assert_eq(state_db_history_put(db, "other.v1", (const uint8_t *)"k01", 3, 50, "zzz", 3), 0);
	if (b->prune_before)
		cr_assert_eq(state_db_history_prune(db, "t.v1", b->prune_before), 0);
	return b->fail ? -1 : 0;
}

Test(state_db, engine_records_come_back_newest_within_the_limit_oldest_first)
{
	struct state_db *db = open_ok();
	struct history_batch b = {0};
	cr_assert_geq(state_db_flush_with(db, put_rows, &b), 0);
	state_db_close(db);
	db = open_ok(); /* a restart */
	struct rows r = {0};
	cr_assert_eq(state_db_history_load(db, "t.v1", 2, collect_row, &r), 0);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.record[0], "mid");
	cr_assert_str_eq(r.record[1], "new");
	cr_assert_eq(r.seen[1], 300);
	state_db_close(db);
}

Test(state_db, pruning_drops_records_older_than_the_given_time)
{
	struct state_db *db = open_ok();
	struct history_batch b = {.prune_before = 250};
	cr_assert_geq(state_db_flush_with(db, put_rows, &b), 0);
	struct rows r = {0};
	cr_assert_eq(state_db_history_load(db, "t.v1", 100, collect_row, &r), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_str_eq(r.record[0], "new");
	struct rows other = {0};
	state_db_history_load(db, "other.v1", 100, collect_row, &other);
	cr_assert_eq(other.n, 1, "another table is left alone");
	state_db_close(db);
}

Test(state_db, a_failing_batch_rolls_back_the_notes_written_with_it)
{
	struct state_db *db = open_ok();
	struct state_server_note n = server("192.0.2.1", T0, true, "");
	cr_assert(state_db_note_server(db, &n));
	struct history_batch b = {.fail = true};
	cr_assert_eq(state_db_flush_with(db, put_rows, &b), -1);
	struct rows r = {0};
	cr_assert_eq(state_db_history_load(db, "t.v1", 100, collect_row, &r), 0);
	cr_assert_eq(r.n, 0);
	uint64_t when = 0;
	cr_assert_eq(state_db_peek_starttls(path, "192.0.2.1", 25, &when), 0);
	struct state_db_stats st;
	state_db_get_stats(db, &st);
	cr_assert_eq(st.flush_errors, 1);
	state_db_close(db);
}

static int prune_inventory(void *ctx, struct state_db *db)
{
	return state_db_prune_inventory(db, *(const uint64_t *)ctx);
}

Test(state_db, pruning_the_inventory_forgets_servers_and_certificates_not_seen_since_and_keeps_coverage)
{
	struct state_db *db = open_ok();
	struct state_server_note old_server = server("192.0.2.1", T0, true, "1.2"),
	                         recent_server = server("192.0.2.2", T0 + 40 * DAY, true, "1.3");
	struct state_cert_note old_cert = cert('a', 1800000000, "192.0.2.1", T0),
	                       recent_cert = cert('b', 1800000000, "192.0.2.2", T0 + 40 * DAY);
	struct state_partner_note old_session = session("bank.example", T0, "1.2", "");
	cr_assert(state_db_note_server(db, &old_server) && state_db_note_server(db, &recent_server));
	cr_assert(state_db_note_certificate(db, &old_cert) && state_db_note_certificate(db, &recent_cert));
	cr_assert(state_db_note_partner_session(db, &old_session));
	uint64_t before = T0 + 30 * DAY;
	cr_assert_geq(state_db_flush_with(db, prune_inventory, &before), 0);

	uint64_t when = 0;
	cr_assert_eq(state_db_peek_starttls(path, "192.0.2.1", 25, &when), 0, "the old server is gone");
	cr_assert_eq(state_db_peek_starttls(path, "192.0.2.2", 25, &when), 1);
	char vs[8][64];
	cr_assert_eq(state_db_peek_values(path, "192.0.2.1", 25, STATE_VALUE_TLS_VERSION, vs, 8), 0,
	             "and its values");
	struct cert_log log = {0};
	cr_assert_eq(state_db_certificates_by_expiry(db, collect_cert, &log), 0);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.sha[0][0], 'b');
	cr_assert_eq(log.n_servers[0], 1);
	struct coverage_log cov = {0};
	cr_assert_eq(state_db_partner_coverage(db, NULL, collect_coverage, &cov), 0);
	cr_assert_eq(cov.n, 1, "coverage is history, not inventory: kept");
	state_db_close(db);
}
