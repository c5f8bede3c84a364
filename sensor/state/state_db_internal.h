/*
 * state_db_internal.h: what the two halves of the SQLite adapter share: the connection and its cached
 * statements (state_db.c: open, schema, the sensor's batched writes, the rules engine's memory) and
 * the report queries that read them (state_db_query.c). Not for use outside sensor/state_db*.c.
 */
#ifndef TLSOBS_STATE_DB_INTERNAL_H
#define TLSOBS_STATE_DB_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

#include "sensor/state/state_db.h"

enum { ERR_CAP = 256 };

/* The statements prepared once at open (their SQL: stmt_sql in state_db.c). */
enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SERVER_UPSERT,
	ST_SERVER_STARTTLS,
	ST_VALUE_UPSERT,
	ST_CERT_UPSERT,
	ST_CERT_SERVER_UPSERT,
	ST_PDAY_UPSERT,
	ST_PDAY_VERSION,
	ST_PDAY_FAILURE,
	ST_MARK_THRESHOLD,
	ST_Q_COVERAGE,
	ST_Q_COVERAGE_VERSIONS,
	ST_Q_COVERAGE_FAILURES,
	ST_Q_CERTS,
	ST_Q_CERT_SERVERS,
	ST_HISTORY_PUT,
	ST_HISTORY_PRUNE,
	ST_PRUNE_VALUES,
	ST_PRUNE_SERVERS,
	ST_PRUNE_CERT_SERVERS,
	ST_PRUNE_CERTS,
	ST_Q_HISTORY,
	ST_PDAY_EXISTS,
	ST_PDAY_NAMES,
	ST_OVERFLOW_ADD,
	ST_Q_COVERAGE_RANGE,
	ST_Q_COVERAGE_DAYS,
	ST_Q_DAY_VERSIONS,
	ST_Q_DAY_FAILURES,
	ST_Q_OVERFLOW,
	ST_TLSRPT_EXISTS,
	ST_TLSRPT_DOMAINS,
	ST_TLSRPT_DAY,
	ST_TLSRPT_DETAILS,
	ST_TLSRPT_FAILURE,
	ST_Q_TLSRPT_POLICIES,
	ST_Q_TLSRPT_FAILURES,
	ST_COUNT
};

enum note_kind { NOTE_SERVER, NOTE_CERT, NOTE_PARTNER, NOTE_TLSRPT };

struct note {
	enum note_kind kind;
	union {
		struct state_server_note server;
		struct state_cert_note cert;
		struct state_partner_note partner;
		struct state_tlsrpt_note tlsrpt;
	} u;
};

/* The names a UTC day holds in one capped table, counted once per day rather than per note. */
struct day_count {
	char day[16];
	uint64_t names;
};

struct state_db {
	sqlite3 *h;
	sqlite3_stmt *st[ST_COUNT];
	struct note *queue; /* STATE_DB_QUEUE_CAP entries */
	size_t n_queued;
	struct state_db_stats stats;
	uint64_t day_cap;                          /* 0: none */
	struct day_count coverage_day, tlsrpt_day; /* valid inside a flush only (reset when it fails) */
	char err[ERR_CAP];
};

/* Records sqlite's message for `what` in db->err; -1. */
int state_db_fail(struct state_db *db, const char *what);
/* The cached statement, reset and unbound. */
sqlite3_stmt *state_db_stmt(struct state_db *db, enum stmt_id id);
/* Binds at most cap - 1 bytes: our fields and caller strings are never read past their cap. */
void state_db_bind_str(sqlite3_stmt *s, int i, const char *v, size_t cap);
/* A text column, "" for NULL (valid until the next step or reset). */
const char *state_db_col_str(sqlite3_stmt *s, int i);
void state_db_copy_bounded(char *dst, size_t cap, const char *src);

#endif
