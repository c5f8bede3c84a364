/*
 * state_db.c: the SQLite adapter behind state_db.h (the only file that includes sqlite3.h).
 *
 * One connection, WAL journal (readers such as a report tool never block the
 * sensor's flush), a busy timeout, and every statement prepared once at open.
 * The schema lives in `migrations`: migration i takes PRAGMA user_version from
 * i to i + 1, each in its own transaction, so an older file is brought forward
 * on open and a newer one is refused rather than misread.
 */
#include "sensor/state/state_db.h"
#include "sensor/state/state_db_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { BUSY_TIMEOUT_MS = 2000 };

static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE servers(id INTEGER PRIMARY KEY, ip TEXT NOT NULL, port INTEGER NOT NULL,"
    " mx TEXT NOT NULL DEFAULT '', first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " starttls_offered INTEGER NOT NULL DEFAULT 0, starttls_first INTEGER, starttls_last INTEGER,"
    " UNIQUE(ip, port));"
    "CREATE TABLE server_values(server_id INTEGER NOT NULL REFERENCES servers(id), kind INTEGER NOT NULL,"
    " value TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " PRIMARY KEY(server_id, kind, value)) WITHOUT ROWID;"
    "CREATE TABLE certificates(sha256 TEXT PRIMARY KEY, subject TEXT NOT NULL DEFAULT '',"
    " sans TEXT NOT NULL DEFAULT '', issuer TEXT NOT NULL DEFAULT '', not_after INTEGER NOT NULL DEFAULT 0,"
    " first_seen INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0,"
    " thresholds_done INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX certificates_by_expiry ON certificates(not_after);"
    "CREATE TABLE certificate_servers(sha256 TEXT NOT NULL, ip TEXT NOT NULL, port INTEGER NOT NULL,"
    " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY(sha256, ip, port)) WITHOUT ROWID;"
    "CREATE TABLE partner_days(partner TEXT NOT NULL, day TEXT NOT NULL, sessions INTEGER NOT NULL,"
    " encrypted INTEGER NOT NULL, cleartext INTEGER NOT NULL, last_failure_us INTEGER NOT NULL,"
    " last_failure_type TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " PRIMARY KEY(partner, day)) WITHOUT ROWID;"
    "CREATE TABLE partner_day_versions(partner TEXT NOT NULL, day TEXT NOT NULL, version TEXT NOT NULL,"
    " count INTEGER NOT NULL, PRIMARY KEY(partner, day, version)) WITHOUT ROWID;"
    "CREATE TABLE partner_day_failures(partner TEXT NOT NULL, day TEXT NOT NULL, type TEXT NOT NULL,"
    " count INTEGER NOT NULL, PRIMARY KEY(partner, day, type)) WITHOUT ROWID;",
    /* 1 -> 2: the partner a certificate belongs to; the rules engine's memory (opaque records) */
    "ALTER TABLE certificates ADD COLUMN partner TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE rules_history(tbl TEXT NOT NULL, key BLOB NOT NULL, seen_us INTEGER NOT NULL,"
    " record BLOB NOT NULL, PRIMARY KEY(tbl, key)) WITHOUT ROWID;"
    "CREATE INDEX rules_history_by_age ON rules_history(tbl, seen_us);",
    /* 2 -> 3: coverage for every domain (kind), end-to-end protected clear-text messages, the per-day cap's
     * overflow, and the TLS-RPT aggregates (RFC 8460 4) per day, policy and failure detail */
    "ALTER TABLE partner_days ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE partner_days ADD COLUMN messages_clear INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE partner_days ADD COLUMN messages_protected INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX partner_days_by_day ON partner_days(day, kind);"
    "CREATE TABLE day_overflow(day TEXT NOT NULL, tbl TEXT NOT NULL, sessions INTEGER NOT NULL,"
    " encrypted INTEGER NOT NULL, cleartext INTEGER NOT NULL, PRIMARY KEY(day, tbl)) WITHOUT ROWID;"
    "CREATE TABLE tlsrpt_days(day TEXT NOT NULL, policy_domain TEXT NOT NULL, policy_type TEXT NOT NULL,"
    " mx_host TEXT NOT NULL, successful INTEGER NOT NULL, failed INTEGER NOT NULL,"
    " PRIMARY KEY(day, policy_domain, policy_type, mx_host)) WITHOUT ROWID;"
    "CREATE TABLE tlsrpt_failures(day TEXT NOT NULL, policy_domain TEXT NOT NULL, policy_type TEXT NOT NULL,"
    " mx_host TEXT NOT NULL, result_type TEXT NOT NULL, sending_ip TEXT NOT NULL,"
    " receiving_mx_hostname TEXT NOT NULL, receiving_mx_helo TEXT NOT NULL, receiving_ip TEXT NOT NULL,"
    " reason_code TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY(day, policy_domain, policy_type, "
    "mx_host,"
    " result_type, sending_ip, receiving_mx_hostname, receiving_mx_helo, receiving_ip, reason_code)) WITHOUT "
    "ROWID;",
};
enum { SCHEMA_VERSION = sizeof(migrations) / sizeof(migrations[0]) };

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SERVER_UPSERT] =
        "INSERT INTO servers(ip, port, mx, first_seen, last_seen) VALUES(?1, ?2, ?3, ?4, ?4)"
        " ON CONFLICT(ip, port) DO UPDATE SET"
        " mx = CASE WHEN excluded.mx <> '' THEN excluded.mx ELSE mx END,"
        " first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)"
        " RETURNING id",
    [ST_SERVER_STARTTLS] = "UPDATE servers SET starttls_offered = 1,"
                           " starttls_first = min(coalesce(starttls_first, ?2), ?2),"
                           " starttls_last = max(coalesce(starttls_last, ?2), ?2) WHERE id = ?1",
    [ST_VALUE_UPSERT] = "INSERT INTO server_values VALUES(?1, ?2, ?3, ?4, ?4) ON CONFLICT DO UPDATE SET"
                        " first_seen = min(first_seen, excluded.first_seen),"
                        " last_seen = max(last_seen, excluded.last_seen)",
    /* A row made by state_db_mark_threshold() before the certificate was flushed has first_seen 0. */
    [ST_CERT_UPSERT] =
        "INSERT INTO certificates(sha256, subject, sans, issuer, not_after, first_seen, last_seen, partner)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7) ON CONFLICT(sha256) DO UPDATE SET"
        " subject = excluded.subject, sans = excluded.sans, issuer = excluded.issuer,"
        " not_after = excluded.not_after,"
        " partner = CASE WHEN excluded.partner <> '' THEN excluded.partner ELSE partner END,"
        " first_seen = CASE WHEN first_seen = 0 THEN excluded.first_seen"
        " ELSE min(first_seen, excluded.first_seen) END,"
        " last_seen = max(last_seen, excluded.last_seen)",
    [ST_CERT_SERVER_UPSERT] = "INSERT INTO certificate_servers VALUES(?1, ?2, ?3, ?4, ?4)"
                              " ON CONFLICT DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),"
                              " last_seen = max(last_seen, excluded.last_seen)",
    /* SET expressions see the old row, so the failure type and time are chosen together. */
    [ST_PDAY_UPSERT] =
        "INSERT INTO partner_days(partner, day, sessions, encrypted, cleartext, last_failure_us, "
        "last_failure_type,"
        " first_seen, last_seen, kind, messages_clear, messages_protected)"
        " VALUES(?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10) ON CONFLICT DO UPDATE SET"
        " sessions = sessions + 1, encrypted = encrypted + excluded.encrypted,"
        " cleartext = cleartext + excluded.cleartext, messages_clear = messages_clear + "
        "excluded.messages_clear,"
        " messages_protected = messages_protected + excluded.messages_protected,"
        " last_failure_type = CASE WHEN excluded.last_failure_type <> ''"
        " AND excluded.last_failure_us >= last_failure_us THEN excluded.last_failure_type"
        " ELSE last_failure_type END,"
        " last_failure_us = CASE WHEN excluded.last_failure_type <> ''"
        " THEN max(last_failure_us, excluded.last_failure_us) ELSE last_failure_us END,"
        " first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)",
    [ST_PDAY_VERSION] = "INSERT INTO partner_day_versions VALUES(?1, ?2, ?3, 1)"
                        " ON CONFLICT DO UPDATE SET count = count + 1",
    [ST_PDAY_FAILURE] = "INSERT INTO partner_day_failures VALUES(?1, ?2, ?3, 1)"
                        " ON CONFLICT DO UPDATE SET count = count + 1",
    /* The WHERE makes changes() 0 when the bit was already set: that is the "once". */
    [ST_MARK_THRESHOLD] =
        "INSERT INTO certificates(sha256, thresholds_done) VALUES(?1, ?2)"
        " ON CONFLICT(sha256) DO UPDATE SET thresholds_done = thresholds_done | excluded.thresholds_done"
        " WHERE (thresholds_done & excluded.thresholds_done) = 0",
    /* With a single max() aggregate, SQLite takes the bare column from the row holding the max. */
    [ST_Q_COVERAGE] =
        "SELECT partner, sum(sessions), sum(encrypted), sum(cleartext), max(last_failure_us),"
        " last_failure_type FROM partner_days WHERE day >= ?1 GROUP BY partner ORDER BY partner",
    [ST_Q_COVERAGE_VERSIONS] =
        "SELECT version, sum(count) AS c FROM partner_day_versions"
        " WHERE partner = ?1 AND day >= ?2 GROUP BY version ORDER BY c DESC, version LIMIT ?3",
    [ST_Q_COVERAGE_FAILURES] =
        "SELECT type, sum(count) AS c FROM partner_day_failures"
        " WHERE partner = ?1 AND day >= ?2 GROUP BY type ORDER BY c DESC, type LIMIT ?3",
    [ST_Q_CERTS] =
        "SELECT sha256, subject, sans, issuer, not_after, first_seen, last_seen, thresholds_done, partner"
        " FROM certificates WHERE first_seen > 0 ORDER BY not_after, sha256",
    [ST_Q_CERT_SERVERS] = "SELECT ip, port, first_seen, last_seen FROM certificate_servers WHERE sha256 = ?1"
                          " ORDER BY ip, port",
    [ST_HISTORY_PUT] = "INSERT OR REPLACE INTO rules_history VALUES(?1, ?2, ?3, ?4)",
    [ST_HISTORY_PRUNE] = "DELETE FROM rules_history WHERE tbl = ?1 AND seen_us < ?2",
    /* Values first: a server goes with the last of its values. */
    [ST_PRUNE_VALUES] = "DELETE FROM server_values WHERE last_seen < ?1",
    [ST_PRUNE_SERVERS] = "DELETE FROM servers WHERE last_seen < ?1"
                         " AND NOT EXISTS (SELECT 1 FROM server_values v WHERE v.server_id = servers.id)",
    [ST_PRUNE_CERT_SERVERS] = "DELETE FROM certificate_servers WHERE last_seen < ?1",
    [ST_PRUNE_CERTS] = "DELETE FROM certificates WHERE last_seen < ?1",
    /* The newest ?2 rows, handed over oldest first. */
    [ST_Q_HISTORY] = "SELECT key, seen_us, record FROM (SELECT key, seen_us, record FROM rules_history"
                     " WHERE tbl = ?1 ORDER BY seen_us DESC LIMIT ?2) ORDER BY seen_us",
    [ST_PDAY_EXISTS] = "SELECT 1 FROM partner_days WHERE partner = ?1 AND day = ?2",
    [ST_PDAY_NAMES] = "SELECT count(*) FROM partner_days WHERE day = ?1 AND kind <> 0",
    [ST_OVERFLOW_ADD] = "INSERT INTO day_overflow VALUES(?1, ?2, 1, ?3, ?4) ON CONFLICT DO UPDATE SET"
                        " sessions = sessions + 1, encrypted = encrypted + excluded.encrypted,"
                        " cleartext = cleartext + excluded.cleartext",
    /* ?1 since, ?2 until ("" for none); the kind and protected counts with the totals. */
    [ST_Q_COVERAGE_RANGE] =
        "SELECT partner, sum(sessions), sum(encrypted), sum(cleartext), max(last_failure_us), "
        "last_failure_type,"
        " (SELECT min(k.kind) FROM partner_days k WHERE k.partner = d.partner) AS kd, '', "
        "sum(messages_clear),"
        " sum(messages_protected) FROM partner_days d WHERE day >= ?1 AND (?2 = '' OR day <= ?2)"
        " GROUP BY partner ORDER BY kd, partner",
    [ST_Q_COVERAGE_DAYS] =
        "SELECT partner, sessions, encrypted, cleartext, last_failure_us, last_failure_type, kind, day,"
        " messages_clear, messages_protected FROM partner_days"
        " WHERE day >= ?1 AND (?2 = '' OR day <= ?2) ORDER BY kind, partner, day",
    [ST_Q_DAY_VERSIONS] = "SELECT version, count FROM partner_day_versions WHERE partner = ?1 AND day = ?2"
                          " ORDER BY count DESC, version LIMIT ?3",
    [ST_Q_DAY_FAILURES] = "SELECT type, count FROM partner_day_failures WHERE partner = ?1 AND day = ?2"
                          " ORDER BY count DESC, type LIMIT ?3",
    [ST_Q_OVERFLOW] = "SELECT day, tbl, sessions, encrypted, cleartext FROM day_overflow"
                      " WHERE day >= ?1 AND (?2 = '' OR day <= ?2) ORDER BY day, tbl",
    [ST_TLSRPT_EXISTS] = "SELECT 1 FROM tlsrpt_days WHERE day = ?1 AND policy_domain = ?2",
    [ST_TLSRPT_DOMAINS] = "SELECT count(DISTINCT policy_domain) FROM tlsrpt_days WHERE day = ?1",
    [ST_TLSRPT_DAY] = "INSERT INTO tlsrpt_days VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO UPDATE SET"
                      " successful = successful + excluded.successful, failed = failed + excluded.failed",
    /* How many detail rows the policy has that day, and whether this one is among them. */
    [ST_TLSRPT_DETAILS] =
        "SELECT count(*), coalesce(sum(result_type = ?5 AND sending_ip = ?6 AND receiving_mx_hostname = ?7"
        " AND receiving_mx_helo = ?8 AND receiving_ip = ?9 AND reason_code = ?10), 0) FROM tlsrpt_failures"
        " WHERE day = ?1 AND policy_domain = ?2 AND policy_type = ?3 AND mx_host = ?4",
    [ST_TLSRPT_FAILURE] = "INSERT INTO tlsrpt_failures VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1)"
                          " ON CONFLICT DO UPDATE SET count = count + 1",
    [ST_Q_TLSRPT_POLICIES] = "SELECT policy_domain, policy_type, mx_host, successful, failed FROM tlsrpt_days"
                             " WHERE day = ?1 ORDER BY policy_domain, policy_type, mx_host",
    [ST_Q_TLSRPT_FAILURES] =
        "SELECT result_type, sending_ip, receiving_mx_hostname, receiving_mx_helo, receiving_ip, "
        "reason_code, count"
        " FROM tlsrpt_failures WHERE day = ?1 AND policy_domain = ?2 AND policy_type = ?3 AND mx_host = ?4"
        " ORDER BY count DESC, result_type, sending_ip, receiving_mx_hostname, receiving_ip",
};

int state_db_fail(struct state_db *db, const char *what)
{
	snprintf(db->err, sizeof(db->err), "%s: %s", what, sqlite3_errmsg(db->h));
	return -1;
}

static void copy_err(char *err, size_t errlen, const char *what, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, why);
}

/* The cached statement, reset and unbound. */
sqlite3_stmt *state_db_stmt(struct state_db *db, enum stmt_id id)
{
	sqlite3_stmt *s = db->st[id];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Binds at most cap - 1 bytes: our fields and caller strings are never read past their cap. */
void state_db_bind_str(sqlite3_stmt *s, int i, const char *v, size_t cap)
{
	sqlite3_bind_text(s, i, v ? v : "", v ? (int)strnlen(v, cap - 1) : 0, SQLITE_STATIC);
}

const char *state_db_col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? (const char *)t : "";
}

void state_db_copy_bounded(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Runs a statement that returns no rows. */
static int run(struct state_db *db, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : state_db_fail(db, what);
}

static int exec_sql(struct state_db *db, const char *sql, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(db->err, sizeof(db->err), "%s: %s", what, msg ? msg : sqlite3_errmsg(db->h));
	sqlite3_free(msg);
	return -1;
}

/* One-row, one-integer pragma; the first read of the file, so a non-database fails here. */
static int pragma_int(struct state_db *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : state_db_fail(db, sql);
}

static int enable_wal(struct state_db *db)
{
	sqlite3_stmt *s = NULL;
	int ok = 0;
	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		ok = strcmp(state_db_col_str(s, 0), "wal") == 0;
	sqlite3_finalize(s);
	if (!ok) {
		state_db_fail(db, "cannot enable WAL journal");
		return -1;
	}
	return 0;
}

static int migrate(struct state_db *db)
{
	int64_t version = 0;
	if (pragma_int(db, "PRAGMA user_version", &version) < 0)
		return -1;
	if (version > SCHEMA_VERSION) {
		snprintf(db->err, sizeof(db->err), "schema version %lld is newer than this sensor's %d",
		         (long long)version, SCHEMA_VERSION);
		return -1;
	}
	for (int64_t v = version; v < SCHEMA_VERSION; v++) {
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA user_version=%lld", (long long)(v + 1));
		if (exec_sql(db, "BEGIN IMMEDIATE", "migration") < 0)
			return -1;
		if (exec_sql(db, migrations[v], "migration") < 0 || exec_sql(db, bump, "migration") < 0 ||
		    exec_sql(db, "COMMIT", "migration") < 0) {
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

static int setup(struct state_db *db)
{
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	int64_t ignored;
	if (pragma_int(db, "PRAGMA user_version", &ignored) < 0 || enable_wal(db) < 0 ||
	    exec_sql(db, "PRAGMA synchronous=NORMAL", "synchronous") < 0 || migrate(db) < 0)
		return -1;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(db->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL) !=
		    SQLITE_OK)
			return state_db_fail(db, "prepare");
	return 0;
}

static void release(struct state_db *db)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close_v2(db->h);
	free(db->queue);
	free(db);
}

struct state_db *state_db_open(const char *path, char *err, size_t errlen)
{
	struct state_db *db = calloc(1, sizeof(*db));
	struct note *queue = calloc(STATE_DB_QUEUE_CAP, sizeof(*queue));
	if (!db || !queue) {
		free(db);
		free(queue);
		copy_err(err, errlen, path, "out of memory");
		return NULL;
	}
	db->queue = queue;
	/* Created here, not by SQLite, for an explicit 0640 (the -wal and -shm files take the database's
	 * mode) and never through a link; SQLITE_OPEN_NOFOLLOW then refuses a path holding one. */
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		copy_err(err, errlen, path,
		         fd >= 0          ? "not a regular file"
		         : errno == ELOOP ? "is a symbolic link"
		                          : strerror(errno));
		if (fd >= 0)
			close(fd);
		release(db);
		return NULL;
	}
	close(fd);
	int rc = sqlite3_open_v2(
	    path, &db->h,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		copy_err(err, errlen, path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		release(db);
		return NULL;
	}
	if (setup(db) < 0) {
		copy_err(err, errlen, path, db->err);
		release(db);
		return NULL;
	}
	db->day_cap = STATE_DB_DEFAULT_DAY_CAP;
	return db;
}

struct state_db *state_db_open_readonly(const char *path, char *err, size_t errlen)
{
	struct state_db *db = calloc(1, sizeof(*db));
	if (!db) {
		copy_err(err, errlen, path, "out of memory");
		return NULL;
	}
	int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	int64_t version = -1;
	if (rc != SQLITE_OK) {
		copy_err(err, errlen, path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	if (pragma_int(db, "PRAGMA user_version", &version) < 0) {
		copy_err(err, errlen, path, db->err);
		goto fail;
	}
	if (version != SCHEMA_VERSION) {
		char why[128];
		snprintf(why, sizeof why, "schema version %lld, this program reads %d%s", (long long)version,
		         SCHEMA_VERSION,
		         version < SCHEMA_VERSION ? " (run the sensor once on it to migrate)" : "");
		copy_err(err, errlen, path, why);
		goto fail;
	}
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(db->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL) !=
		    SQLITE_OK) {
			state_db_fail(db, "prepare");
			copy_err(err, errlen, path, db->err);
			goto fail;
		}
	return db;
fail:
	release(db);
	return NULL;
}

void state_db_set_day_cap(struct state_db *db, uint64_t max_names_per_day)
{
	db->day_cap = max_names_per_day;
}

const char *state_attribution_str(enum state_attribution a)
{
	switch (a) {
	case STATE_ATTR_PARTNER:
		return "partner";
	case STATE_ATTR_DOMAIN:
		return "domain";
	case STATE_ATTR_UNATTRIBUTED:
		return "unattributed";
	}
	return "unattributed";
}

void state_db_close(struct state_db *db)
{
	if (!db)
		return;
	state_db_flush(db);
	release(db);
}

const char *state_db_error(const struct state_db *db)
{
	return db->err;
}

void state_db_get_stats(const struct state_db *db, struct state_db_stats *out)
{
	*out = db->stats;
	out->queued = db->n_queued;
}

/* The queue slot for a new note, or NULL (counted) when full. */
static struct note *enqueue(struct state_db *db, enum note_kind kind)
{
	if (db->n_queued >= STATE_DB_QUEUE_CAP) {
		db->stats.dropped++;
		return NULL;
	}
	struct note *n = &db->queue[db->n_queued++];
	n->kind = kind;
	return n;
}

#define TERMINATE(field) ((field)[sizeof(field) - 1] = '\0')

bool state_db_note_server(struct state_db *db, const struct state_server_note *n)
{
	struct note *q = enqueue(db, NOTE_SERVER);
	if (!q)
		return false;
	struct state_server_note *s = &q->u.server;
	*s = *n;
	TERMINATE(s->ip);
	TERMINATE(s->mx);
	TERMINATE(s->tls_version);
	TERMINATE(s->cipher);
	TERMINATE(s->ja3s);
	TERMINATE(s->cert_sha256);
	TERMINATE(s->cert_issuer);
	return true;
}

bool state_db_note_certificate(struct state_db *db, const struct state_cert_note *n)
{
	struct note *q = enqueue(db, NOTE_CERT);
	if (!q)
		return false;
	struct state_cert_note *c = &q->u.cert;
	*c = *n;
	TERMINATE(c->sha256);
	TERMINATE(c->subject);
	TERMINATE(c->sans);
	TERMINATE(c->issuer);
	TERMINATE(c->server_ip);
	return true;
}

bool state_db_note_partner_session(struct state_db *db, const struct state_partner_note *n)
{
	struct note *q = enqueue(db, NOTE_PARTNER);
	if (!q)
		return false;
	struct state_partner_note *p = &q->u.partner;
	*p = *n;
	TERMINATE(p->partner);
	TERMINATE(p->tls_version);
	TERMINATE(p->failure);
	return true;
}

bool state_db_note_tlsrpt(struct state_db *db, const struct state_tlsrpt_note *n)
{
	struct note *q = enqueue(db, NOTE_TLSRPT);
	if (!q)
		return false;
	struct state_tlsrpt_note *t = &q->u.tlsrpt;
	*t = *n;
	TERMINATE(t->policy_domain);
	TERMINATE(t->policy_type);
	TERMINATE(t->mx_host);
	TERMINATE(t->result_type);
	TERMINATE(t->sending_ip);
	TERMINATE(t->receiving_mx_hostname);
	TERMINATE(t->receiving_mx_helo);
	TERMINATE(t->receiving_ip);
	TERMINATE(t->reason_code);
	return true;
}

static int write_value(struct state_db *db, int64_t server_id, enum state_server_value kind, const char *v,
                       uint64_t t)
{
	if (!v[0])
		return 0;
	sqlite3_stmt *s = state_db_stmt(db, ST_VALUE_UPSERT);
	sqlite3_bind_int64(s, 1, server_id);
	sqlite3_bind_int(s, 2, (int)kind);
	state_db_bind_str(s, 3, v, STATE_DB_SANS_CAP);
	sqlite3_bind_int64(s, 4, (int64_t)t);
	return run(db, s, "server value");
}

static int write_server(struct state_db *db, const struct state_server_note *n)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_SERVER_UPSERT);
	state_db_bind_str(s, 1, n->ip, sizeof(n->ip));
	sqlite3_bind_int(s, 2, n->port);
	state_db_bind_str(s, 3, n->mx, sizeof(n->mx));
	sqlite3_bind_int64(s, 4, (int64_t)n->time_us);
	if (sqlite3_step(s) != SQLITE_ROW)
		return state_db_fail(db, "server");
	int64_t id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (n->starttls_offered) {
		s = state_db_stmt(db, ST_SERVER_STARTTLS);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, (int64_t)n->time_us);
		if (run(db, s, "server starttls") < 0)
			return -1;
	}
	const char *values[STATE_VALUE_COUNT] = {
	    [STATE_VALUE_TLS_VERSION] = n->tls_version,
	    [STATE_VALUE_CIPHER] = n->cipher,
	    [STATE_VALUE_JA3S] = n->ja3s,
	    [STATE_VALUE_CERT_SHA256] = n->cert_sha256,
	    [STATE_VALUE_CERT_ISSUER] = n->cert_issuer,
	};
	for (int k = 0; k < STATE_VALUE_COUNT; k++)
		if (write_value(db, id, (enum state_server_value)k, values[k], n->time_us) < 0)
			return -1;
	return 0;
}

static int write_cert(struct state_db *db, const struct state_cert_note *n)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_CERT_UPSERT);
	state_db_bind_str(s, 1, n->sha256, sizeof(n->sha256));
	state_db_bind_str(s, 2, n->subject, sizeof(n->subject));
	state_db_bind_str(s, 3, n->sans, sizeof(n->sans));
	state_db_bind_str(s, 4, n->issuer, sizeof(n->issuer));
	sqlite3_bind_int64(s, 5, n->not_after);
	sqlite3_bind_int64(s, 6, (int64_t)n->time_us);
	state_db_bind_str(s, 7, n->partner, sizeof(n->partner));
	if (run(db, s, "certificate") < 0)
		return -1;
	if (!n->server_ip[0])
		return 0;
	s = state_db_stmt(db, ST_CERT_SERVER_UPSERT);
	state_db_bind_str(s, 1, n->sha256, sizeof(n->sha256));
	state_db_bind_str(s, 2, n->server_ip, sizeof(n->server_ip));
	sqlite3_bind_int(s, 3, n->server_port);
	sqlite3_bind_int64(s, 4, (int64_t)n->time_us);
	return run(db, s, "certificate server");
}

static void utc_day(uint64_t time_us, char day[16])
{
	time_t t = (time_t)(time_us / 1000000u);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(day, 16, "%Y-%m-%d", &tm) == 0)
		state_db_copy_bounded(day, 16, "0000-00-00");
}

static int write_count(struct state_db *db, enum stmt_id id, const char *partner, const char *day,
                       const char *name)
{
	sqlite3_stmt *s = state_db_stmt(db, id);
	state_db_bind_str(s, 1, partner, STATE_DB_NAME_CAP);
	state_db_bind_str(s, 2, day, 16);
	state_db_bind_str(s, 3, name, STATE_DB_TOKEN_CAP);
	return run(db, s, "partner count");
}

/* 1 when the one-row query with two text bindings has a row, 0 when not, -1 error. */
static int exists(struct state_db *db, enum stmt_id id, const char *a, const char *b)
{
	sqlite3_stmt *s = state_db_stmt(db, id);
	state_db_bind_str(s, 1, a, STATE_DB_NAME_CAP);
	state_db_bind_str(s, 2, b, STATE_DB_NAME_CAP);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : state_db_fail(db, "lookup");
}

/*
 * Whether a new name fits in the day's cap of table `id` counts (1 yes, 0 full, -1 error); the
 * count is read once per day and flush, then kept up to date here.
 */
static int day_has_room(struct state_db *db, struct day_count *c, enum stmt_id count_id, const char *day)
{
	if (db->day_cap == 0)
		return 1;
	if (strcmp(c->day, day) != 0) {
		sqlite3_stmt *s = state_db_stmt(db, count_id);
		state_db_bind_str(s, 1, day, 16);
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_reset(s);
			return state_db_fail(db, "day count");
		}
		c->names = (uint64_t)sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		state_db_copy_bounded(c->day, sizeof c->day, day);
	}
	if (c->names >= db->day_cap)
		return 0;
	c->names++;
	return 1;
}

static int overflow(struct state_db *db, const char *day, const char *table, bool encrypted, bool cleartext)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_OVERFLOW_ADD);
	state_db_bind_str(s, 1, day, 16);
	state_db_bind_str(s, 2, table, 16);
	sqlite3_bind_int(s, 3, encrypted);
	sqlite3_bind_int(s, 4, cleartext);
	return run(db, s, "overflow");
}

/* Partners are always kept; other names only while the day has room (1), else counted as overflow (0). */
static int partner_fits(struct state_db *db, const struct state_partner_note *n, const char *day)
{
	if (n->kind == STATE_ATTR_PARTNER)
		return 1;
	int known = exists(db, ST_PDAY_EXISTS, n->partner, day);
	if (known != 0)
		return known;
	int room = day_has_room(db, &db->coverage_day, ST_PDAY_NAMES, day);
	if (room == 0 && overflow(db, day, "coverage", n->encrypted, n->cleartext) < 0)
		return -1;
	return room;
}

static int write_partner(struct state_db *db, const struct state_partner_note *n)
{
	char day[16];
	utc_day(n->time_us, day);
	int fits = partner_fits(db, n, day);
	if (fits <= 0)
		return fits;
	sqlite3_stmt *s = state_db_stmt(db, ST_PDAY_UPSERT);
	state_db_bind_str(s, 1, n->partner, sizeof(n->partner));
	state_db_bind_str(s, 2, day, sizeof(day));
	sqlite3_bind_int(s, 3, n->encrypted);
	sqlite3_bind_int(s, 4, n->cleartext);
	sqlite3_bind_int64(s, 5, n->failure[0] ? (int64_t)n->time_us : 0);
	state_db_bind_str(s, 6, n->failure, sizeof(n->failure));
	sqlite3_bind_int64(s, 7, (int64_t)n->time_us);
	sqlite3_bind_int(s, 8, (int)n->kind);
	sqlite3_bind_int64(s, 9, n->messages_clear);
	sqlite3_bind_int64(s, 10, n->messages_protected);
	if (run(db, s, "partner day") < 0)
		return -1;
	if (n->tls_version[0] && write_count(db, ST_PDAY_VERSION, n->partner, day, n->tls_version) < 0)
		return -1;
	if (n->failure[0] && write_count(db, ST_PDAY_FAILURE, n->partner, day, n->failure) < 0)
		return -1;
	return 0;
}

/* The detail row of a failure; past STATE_DB_TLSRPT_DETAILS rows a new one keeps its result type only. */
static int write_tlsrpt_failure(struct state_db *db, const struct state_tlsrpt_note *n, const char *day)
{
	const char *v[] = {
	    day,           n->policy_domain,         n->policy_type,       n->mx_host,      n->result_type,
	    n->sending_ip, n->receiving_mx_hostname, n->receiving_mx_helo, n->receiving_ip, n->reason_code};
	enum { NV = sizeof v / sizeof v[0] };
	sqlite3_stmt *s = state_db_stmt(db, ST_TLSRPT_DETAILS);
	for (int i = 0; i < NV; i++)
		state_db_bind_str(s, i + 1, v[i], STATE_DB_NAME_CAP);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return state_db_fail(db, "tlsrpt details");
	}
	bool full = sqlite3_column_int64(s, 0) >= STATE_DB_TLSRPT_DETAILS && sqlite3_column_int64(s, 1) == 0;
	sqlite3_reset(s);
	s = state_db_stmt(db, ST_TLSRPT_FAILURE);
	for (int i = 0; i < NV; i++)
		state_db_bind_str(s, i + 1, full && i > 4 ? "" : v[i], STATE_DB_NAME_CAP);
	return run(db, s, "tlsrpt failure");
}

static int write_tlsrpt(struct state_db *db, const struct state_tlsrpt_note *n)
{
	char day[16];
	utc_day(n->time_us, day);
	int known = exists(db, ST_TLSRPT_EXISTS, day, n->policy_domain);
	if (known < 0)
		return -1;
	if (!known) {
		int room = day_has_room(db, &db->tlsrpt_day, ST_TLSRPT_DOMAINS, day);
		if (room <= 0)
			return room < 0 ? -1 : overflow(db, day, "tlsrpt", n->success, !n->success);
	}
	sqlite3_stmt *s = state_db_stmt(db, ST_TLSRPT_DAY);
	state_db_bind_str(s, 1, day, sizeof day);
	state_db_bind_str(s, 2, n->policy_domain, sizeof n->policy_domain);
	state_db_bind_str(s, 3, n->policy_type, sizeof n->policy_type);
	state_db_bind_str(s, 4, n->mx_host, sizeof n->mx_host);
	sqlite3_bind_int(s, 5, n->success);
	sqlite3_bind_int(s, 6, !n->success);
	if (run(db, s, "tlsrpt day") < 0)
		return -1;
	return n->success ? 0 : write_tlsrpt_failure(db, n, day);
}

static int write_note(struct state_db *db, const struct note *n)
{
	switch (n->kind) {
	case NOTE_TLSRPT:
		return write_tlsrpt(db, &n->u.tlsrpt);
	case NOTE_SERVER:
		return write_server(db, &n->u.server);
	case NOTE_CERT:
		return write_cert(db, &n->u.cert);
	case NOTE_PARTNER:
		return write_partner(db, &n->u.partner);
	}
	return -1;
}

static bool is_busy(struct state_db *db)
{
	int rc = sqlite3_errcode(db->h) & 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

int state_db_flush(struct state_db *db)
{
	return state_db_flush_with(db, NULL, NULL);
}

int state_db_flush_with(struct state_db *db, state_db_batch_fn batch, void *ctx)
{
	size_t n = db->n_queued;
	if (n == 0 && !batch)
		return 0;
	if (run(db, state_db_stmt(db, ST_BEGIN), "begin") < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (write_note(db, &db->queue[i]) < 0)
			goto rollback;
	if (batch && batch(ctx, db) < 0)
		goto rollback;
	if (run(db, state_db_stmt(db, ST_COMMIT), "commit") < 0)
		goto rollback;
	db->n_queued = 0;
	db->stats.written += n;
	return (int)n;
rollback:;
	/* The cached day counts may hold names the rollback took back. */
	db->coverage_day.day[0] = db->tlsrpt_day.day[0] = '\0';
	bool busy = is_busy(db);
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_step(state_db_stmt(db, ST_ROLLBACK));
	sqlite3_reset(db->st[ST_ROLLBACK]);
	db->stats.flush_errors++;
	if (!busy) {
		db->stats.lost += n;
		db->n_queued = 0;
	}
	return -1;
fail:
	db->stats.flush_errors++;
	if (!is_busy(db)) {
		db->stats.lost += n;
		db->n_queued = 0;
	}
	return -1;
}

int state_db_mark_threshold(struct state_db *db, const char *sha256, unsigned bit)
{
	if (bit > 31) {
		snprintf(db->err, sizeof(db->err), "threshold bit %u out of range", bit);
		return -1;
	}
	sqlite3_stmt *s = state_db_stmt(db, ST_MARK_THRESHOLD);
	state_db_bind_str(s, 1, sha256, STATE_DB_SHA256_CAP);
	sqlite3_bind_int64(s, 2, (int64_t)1 << bit);
	if (run(db, s, "mark threshold") < 0)
		return -1;
	return sqlite3_changes(db->h) > 0 ? 1 : 0;
}

/* ---- the rules engine's memory ---- */

int state_db_history_put(struct state_db *db, const char *table, const uint8_t *key, size_t key_len,
                         uint64_t seen_us, const void *record, size_t record_len)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_HISTORY_PUT);
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, key, (int)key_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)seen_us);
	sqlite3_bind_blob(s, 4, record, (int)record_len, SQLITE_STATIC);
	return run(db, s, "history");
}

int state_db_history_prune(struct state_db *db, const char *table, uint64_t before_us)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_HISTORY_PRUNE);
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)before_us);
	return run(db, s, "history prune");
}

int state_db_prune_inventory(struct state_db *db, uint64_t before_us)
{
	static const enum stmt_id order[] = {ST_PRUNE_VALUES, ST_PRUNE_SERVERS, ST_PRUNE_CERT_SERVERS,
	                                     ST_PRUNE_CERTS};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		sqlite3_stmt *s = state_db_stmt(db, order[i]);
		sqlite3_bind_int64(s, 1, (int64_t)before_us);
		if (run(db, s, "prune") < 0)
			return -1;
	}
	return 0;
}

int state_db_history_load(struct state_db *db, const char *table, size_t limit, state_db_history_fn fn,
                          void *ctx)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_Q_HISTORY);
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const void *key = sqlite3_column_blob(s, 0);
		size_t key_len = (size_t)sqlite3_column_bytes(s, 0);
		uint64_t seen_us = (uint64_t)sqlite3_column_int64(s, 1);
		const void *record = sqlite3_column_blob(s, 2);
		size_t record_len = (size_t)sqlite3_column_bytes(s, 2);
		if (key && record && fn(ctx, key, key_len, seen_us, record, record_len))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = state_db_fail(db, "history load");
	sqlite3_reset(s);
	return ret;
}
