/*
 * test_state_sync.c: the rules engine's memory saved to the state database and
 * put back after a restart.
 *
 * Each test works on a SQLite file in its own temporary directory. Sessions are
 * built by hand as the parsers would report them: a client (203.0.113.7)
 * that sends mail to a server (198.51.100.N:25) which offers STARTTLS, and
 * a second client that later finds the offer gone. That the engine remembers
 * the offer is seen from the outside: starttls_capability_removed is raised only
 * when the history of the first session is known. Times are packet times.
 */
#include "sensor/state/state_sync.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "state_db_peek.h"

#define SEC 1000000ull
#define HOUR (3600ull * SEC)
#define DAY (24 * HOUR)
/* 2023-11-14 22:13:20 UTC */
#define T0 (1700000000ull * SEC)

static char dir[64];
static char path[128];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_state_sync.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state.db", dir);
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(state_sync, .init = make_dir, .fini = remove_dir);

/* ---- a sensor: the database, an engine and the sync between them ---- */

struct sensor {
	struct state_db *db;
	struct rules_engine *engine;
	struct state_sync *sync;
};

static struct sensor start(size_t max_servers, size_t max_pairs, uint64_t ttl_us)
{
	char err[256] = "";
	struct sensor s;
	s.db = state_db_open(path, err, sizeof err);
	cr_assert_not_null(s.db, "open: %s", err);
	struct rules_settings set = {.history_max_servers = max_servers, .history_max_pairs = max_pairs};
	s.engine = rules_engine_new(&set);
	cr_assert_not_null(s.engine);
	s.sync = state_sync_new(s.db, s.engine, ttl_us);
	cr_assert_not_null(s.sync);
	return s;
}

static void stop(struct sensor *s)
{
	state_sync_free(s->sync);
	rules_engine_free(s->engine);
	state_db_close(s->db);
}

static void restore_ok(struct sensor *s)
{
	char err[256] = "";
	cr_assert_eq(state_sync_restore(s->sync, err, sizeof err), 0, "restore: %s", err);
}

/* ---- sessions ---- */

struct scenario {
	struct session s;
	struct smtp_observation m;
	struct tls_observation t;
};

static void ehlo_reply(struct smtp_observation *m, bool starttls)
{
	struct smtp_capabilities *c = &m->caps;
	c->seen = true;
	snprintf(c->raw, sizeof c->raw,
	         "250-mx.example.net Hello client.example\n250-PIPELINING\n%s250 8BITMIME",
	         starttls ? "250-STARTTLS\n" : "");
	snprintf(c->lines[c->count++], SMTP_CAPABILITY_MAX, "PIPELINING");
	if (starttls)
		snprintf(c->lines[c->count++], SMTP_CAPABILITY_MAX, "STARTTLS");
	snprintf(c->lines[c->count++], SMTP_CAPABILITY_MAX, "8BITMIME");
	c->starttls = starttls;
	c->pipelining = true;
}

/* A clean session to server 198.51.100.<server>: STARTTLS offered and used, TLS 1.3 established. */
static struct scenario *upgraded(const char *id, uint8_t server, uint64_t start_us)
{
	struct scenario *sc = calloc(1, sizeof *sc);
	cr_assert_not_null(sc);
	struct session *s = &sc->s;
	snprintf(s->id, sizeof s->id, "%s", id);
	s->client.ip = (struct ip_addr){.family = 4, .bytes = {203, 0, 113, 7}};
	s->client.port = 40000;
	s->server.ip = (struct ip_addr){.family = 4, .bytes = {198, 51, 100, server}};
	s->server.port = 25;
	s->start_us = start_us;
	s->end_us = start_us + 2 * SEC;
	s->close_reason = SESSION_CLOSE_FIN;
	s->protocol = SESSION_PROTOCOL_SMTP;
	s->smtp = &sc->m;
	s->tls = &sc->t;

	struct smtp_observation *m = &sc->m;
	m->banner_code = 220;
	snprintf(m->banner, sizeof m->banner, "220 mx.example.net ESMTP");
	snprintf(m->helo_verb, sizeof m->helo_verb, "EHLO");
	snprintf(m->helo, sizeof m->helo, "client.example");
	m->ehlo_reply_code = 250;
	ehlo_reply(m, true);
	m->starttls_attempted = true;
	snprintf(m->starttls_command, sizeof m->starttls_command, "STARTTLS");
	m->starttls_reply_code = 220;
	snprintf(m->starttls_reply, sizeof m->starttls_reply, "220 2.0.0 Ready to start TLS");
	m->tls_started = true;
	m->last_reply_code = 220;

	struct tls_observation *t = &sc->t;
	t->outcome = TLS_OUTCOME_ESTABLISHED;
	t->client_hello_seen = t->server_hello_seen = true;
	t->client_version = 0x0303;
	t->version = 0x0304;
	t->cipher = 0x1301;
	t->records[0] = 3;
	t->records[1] = 4;
	return sc;
}

/* Another client to the same server, which no longer offers STARTTLS: the client goes on in clear. */
static struct scenario *stripped(const char *id, uint8_t server, uint64_t start_us)
{
	struct scenario *sc = upgraded(id, server, start_us);
	sc->s.client.ip.bytes[3] = 99;
	struct smtp_observation *m = &sc->m;
	memset(&m->caps, 0, sizeof m->caps);
	ehlo_reply(m, false);
	m->starttls_attempted = m->tls_started = false;
	m->starttls_command[0] = m->starttls_reply[0] = '\0';
	m->starttls_reply_code = 0;
	m->last_reply_code = 250;
	sc->s.tls = NULL;
	return sc;
}

/* The engine judges the session, the sync takes its notes, as the sensor does when a flow ends. */
static void observe(struct sensor *s, struct scenario *sc)
{
	rules_engine_evaluate(s->engine, &sc->s);
	state_sync_session(s->sync, &sc->s, sc->s.end_us);
	free(sc);
}

/* Whether the engine, judging a stripped session to this server now, remembers the earlier offer. */
static bool remembers_offer(struct sensor *s, uint8_t server, uint64_t at)
{
	struct scenario *sc = stripped("later", server, at);
	rules_engine_evaluate(s->engine, &sc->s);
	bool known = alert_list_has(&sc->s.alerts, RULE_STARTTLS_CAPABILITY_REMOVED);
	free(sc);
	return known;
}

/* ---- what the database holds ---- */

struct rows {
	size_t count;
	uint64_t oldest_us, newest_us;
};

static int count_row(void *ctx, const uint8_t *key, size_t key_len, uint64_t seen_us, const void *record,
                     size_t record_len)
{
	struct rows *r = ctx;
	if (!r->count || seen_us < r->oldest_us)
		r->oldest_us = seen_us;
	if (seen_us > r->newest_us)
		r->newest_us = seen_us;
	r->count++;
	return 0;
}

static struct rows rows_of(struct state_db *db, enum rules_table t)
{
	struct rows r = {0};
	cr_assert_geq(state_db_history_load(db, rules_table_name(t), 1000000, count_row, &r), 0);
	return r;
}

static size_t all_rows(struct state_db *db)
{
	size_t n = 0;
	for (int t = 0; t < RULES_TABLE_COUNT; t++)
		n += rows_of(db, (enum rules_table)t).count;
	return n;
}

/* ---- tests ---- */

Test(state_sync, a_round_trip_through_the_database_restores_the_history)
{
	struct sensor a = start(0, 0, 30 * DAY);
	restore_ok(&a); /* an empty database: nothing to restore */
	cr_expect_eq(state_sync_stats(a.sync)->restored, 0);
	observe(&a, upgraded("S1", 25, T0));
	cr_assert_eq(state_sync_flush(a.sync, T0 + 10 * SEC), 0);
	uint64_t saved = state_sync_stats(a.sync)->records_saved;
	cr_expect_gt(saved, 0);
	cr_expect_eq(all_rows(a.db), saved);
	cr_expect_gt(rows_of(a.db, RULES_TABLE_SMTP_SERVERS).count, 0);
	stop(&a);

	struct sensor b = start(0, 0, 30 * DAY);
	restore_ok(&b);
	cr_expect_eq(state_sync_stats(b.sync)->restored, saved);
	cr_expect_eq(state_sync_stats(b.sync)->restore_skipped, 0);
	cr_expect(remembers_offer(&b, 25, T0 + 300 * SEC));
	stop(&b);

	/* The control: an engine that was not given the history does not know the offer. */
	struct sensor c = start(0, 0, 30 * DAY);
	cr_expect_not(remembers_offer(&c, 25, T0 + 300 * SEC));
	stop(&c);
}

Test(state_sync, a_session_s_notes_reach_the_database_at_the_flush)
{
	struct sensor a = start(0, 0, 30 * DAY);
	observe(&a, upgraded("S1", 25, T0));
	uint64_t when = 0;
	cr_expect_eq(state_db_peek_starttls(path, "198.51.100.25", 25, &when), 0, "before the flush");
	cr_assert_eq(state_sync_flush(a.sync, T0 + 10 * SEC), 0);
	cr_expect_eq(state_db_peek_starttls(path, "198.51.100.25", 25, &when), 1);
	cr_expect_eq(when, T0 + 2 * SEC);
	cr_expect_eq(state_sync_stats(a.sync)->flushes, 1);
	cr_expect_eq(state_sync_stats(a.sync)->flush_errors, 0);
	stop(&a);
}

Test(state_sync, only_records_touched_since_the_last_save_are_exported)
{
	struct sensor a = start(0, 0, 30 * DAY);
	observe(&a, upgraded("S1", 25, T0));
	cr_assert_eq(state_sync_flush(a.sync, T0 + 10 * SEC), 0);
	uint64_t first = state_sync_stats(a.sync)->records_saved;
	cr_assert_gt(first, 0);

	/* Nothing new: no flush at all. */
	cr_assert_eq(state_sync_flush(a.sync, T0 + 20 * SEC), 0);
	cr_expect_eq(state_sync_stats(a.sync)->flushes, 1);
	cr_expect_eq(state_sync_stats(a.sync)->records_saved, first);

	/* A session of the same shape with another server touches as many records, and only those. */
	observe(&a, upgraded("S2", 26, T0 + 30 * SEC));
	cr_assert_eq(state_sync_flush(a.sync, T0 + 40 * SEC), 0);
	cr_expect_eq(state_sync_stats(a.sync)->flushes, 2);
	cr_expect_eq(state_sync_stats(a.sync)->records_saved, 2 * first);
	cr_expect_eq(all_rows(a.db), 2 * first);
	stop(&a);

	/* What was restored is already in the database: a flush right after a restore writes nothing. */
	struct sensor b = start(0, 0, 30 * DAY);
	restore_ok(&b);
	cr_expect_eq(state_sync_stats(b.sync)->restored, 2 * first);
	cr_assert_eq(state_sync_flush(b.sync, T0 + 50 * SEC), 0);
	cr_expect_eq(state_sync_stats(b.sync)->flushes, 0);
	cr_expect_eq(state_sync_stats(b.sync)->records_saved, 0);
	stop(&b);
}

Test(state_sync, records_older_than_the_ttl_are_pruned_at_a_flush)
{
	struct sensor a = start(0, 0, DAY);
	observe(&a, upgraded("S1", 25, T0));
	cr_assert_eq(state_sync_flush(a.sync, T0 + 10 * SEC), 0);
	size_t one = all_rows(a.db);
	cr_assert_gt(one, 0);

	/* 20 hours later both are kept. */
	observe(&a, upgraded("S2", 26, T0 + 20 * HOUR));
	cr_assert_eq(state_sync_flush(a.sync, T0 + 20 * HOUR + 10 * SEC), 0);
	cr_expect_eq(all_rows(a.db), 2 * one);

	/* 30 hours on, the first server's records are older than the TTL and go; the second's stay. */
	observe(&a, upgraded("S3", 27, T0 + 30 * HOUR));
	cr_assert_eq(state_sync_flush(a.sync, T0 + 30 * HOUR + 10 * SEC), 0);
	cr_expect_eq(all_rows(a.db), 2 * one, "S1 pruned, S2 and S3 kept");
	struct rows servers = rows_of(a.db, RULES_TABLE_SMTP_SERVERS);
	cr_expect_eq(servers.count, 2);
	cr_expect_geq(servers.oldest_us, T0 + 20 * HOUR, "oldest kept %llu",
	              (unsigned long long)servers.oldest_us);
	stop(&a);

	/* After a restart the pruned server is forgotten, the other remembered. */
	struct sensor b = start(0, 0, 30 * DAY);
	restore_ok(&b);
	cr_expect_not(remembers_offer(&b, 25, T0 + 31 * HOUR));
	cr_expect(remembers_offer(&b, 27, T0 + 31 * HOUR));
	stop(&b);
}

Test(state_sync, with_no_ttl_nothing_is_pruned)
{
	struct sensor a = start(0, 0, 0);
	observe(&a, upgraded("S1", 25, T0));
	cr_assert_eq(state_sync_flush(a.sync, T0 + 10 * SEC), 0);
	size_t one = all_rows(a.db);
	observe(&a, upgraded("S2", 26, T0 + 400 * DAY));
	cr_assert_eq(state_sync_flush(a.sync, T0 + 400 * DAY + 10 * SEC), 0);
	cr_expect_eq(all_rows(a.db), 2 * one);
	stop(&a);
}

Test(state_sync, a_restore_takes_no_more_than_the_engine_holds_and_keeps_the_newest)
{
	struct sensor a = start(0, 0, 30 * DAY);
	for (uint8_t i = 0; i < 5; i++) {
		char id[8];
		snprintf(id, sizeof id, "S%u", i);
		observe(&a, upgraded(id, (uint8_t)(30 + i), T0 + i * 60 * SEC));
	}
	cr_assert_eq(state_sync_flush(a.sync, T0 + 600 * SEC), 0);
	cr_assert_eq(rows_of(a.db, RULES_TABLE_SMTP_SERVERS).count, 5);
	stop(&a);

	struct sensor b = start(2, 2, 30 * DAY);
	restore_ok(&b);
	const struct rules_stats *st = rules_engine_stats(b.engine);
	cr_expect_eq(st->history_servers, 2);
	cr_expect_leq(st->history_pairs, 2);
	cr_expect_eq(st->history_evicted, 0, "the cap is applied by the load, not by evicting");
	cr_expect(remembers_offer(&b, 34, T0 + 900 * SEC), "the newest server is kept");
	stop(&b);

	struct sensor c = start(2, 2, 30 * DAY);
	restore_ok(&c);
	cr_expect_not(remembers_offer(&c, 30, T0 + 900 * SEC), "the oldest server is left in the database");
	stop(&c);
}

static int put_odd_record(void *ctx, struct state_db *db)
{
	const uint8_t key[3] = {1, 2, 3}, record[5] = {0};
	return state_db_history_put(db, rules_table_name(RULES_TABLE_SMTP_SERVERS), key, sizeof key, T0,
	                            record, sizeof record);
}

Test(state_sync, a_saved_record_of_another_size_is_skipped_and_counted)
{
	struct sensor a = start(0, 0, 30 * DAY);
	observe(&a, upgraded("S1", 25, T0));
	cr_assert_eq(state_sync_flush(a.sync, T0 + 10 * SEC), 0);
	uint64_t saved = state_sync_stats(a.sync)->records_saved;
	cr_assert_geq(state_db_flush_with(a.db, put_odd_record, NULL), 0);
	stop(&a);

	struct sensor b = start(0, 0, 30 * DAY);
	restore_ok(&b);
	cr_expect_eq(state_sync_stats(b.sync)->restored, saved);
	cr_expect_eq(state_sync_stats(b.sync)->restore_skipped, 1);
	cr_expect(remembers_offer(&b, 25, T0 + 300 * SEC));
	stop(&b);
}

/* ---- partner relaxations dealt with (issue 16: relaxation_ended after downtime) ---- */

Test(state_sync, the_time_relaxations_were_dealt_with_survives_a_restart)
{
	struct sensor a = start(100, 100, 30 * DAY);
	restore_ok(&a);
	cr_assert_eq(state_sync_relaxations_checked(a.sync), 0, "a new database holds no time");
	state_sync_set_relaxations_checked(a.sync, T0 + HOUR, true);
	cr_assert_eq(state_sync_flush(a.sync, T0 + HOUR), 0);
	cr_assert_eq(state_sync_relaxations_checked(a.sync), T0 + HOUR);
	state_sync_set_relaxations_checked(a.sync, T0 + 2 * HOUR, false);
	cr_assert_eq(state_sync_flush(a.sync, T0 + 2 * HOUR), 0);
	cr_assert_eq(state_sync_stats(a.sync)->flushes, 1,
	             "the time alone, not urgent, is no reason to write");
	stop(&a); /* the next start knows T0 + 1 h only */

	struct sensor b = start(100, 100, 30 * DAY);
	restore_ok(&b);
	cr_assert_eq(state_sync_relaxations_checked(b.sync), T0 + HOUR);
	cr_assert_eq(state_sync_stats(b.sync)->restored, 0, "the time is not an engine record");
	state_sync_set_relaxations_checked(b.sync, T0, false); /* the clock stepped back: the time stays */
	state_sync_set_relaxations_checked(b.sync, T0 + 3 * HOUR, false);
	state_sync_set_relaxations_checked(b.sync, T0 + 2 * HOUR, false);
	observe(&b, upgraded("one", 1, T0 + 3 * HOUR));
	cr_assert_eq(state_sync_flush(b.sync, T0 + 60 * DAY), 0,
	             "saved with the engine's records; never pruned");
	stop(&b);

	struct sensor c = start(100, 100, 30 * DAY);
	restore_ok(&c);
	cr_assert_eq(state_sync_relaxations_checked(c.sync), T0 + 3 * HOUR);
	stop(&c);
}
