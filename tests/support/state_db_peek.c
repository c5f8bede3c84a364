/* state_db_peek.c: a state database's servers and their value sets, read back for tests (see the header). */
#include "state_db_peek.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>

static sqlite3_stmt *prepare(sqlite3 **db, const char *path, const char *sql, const char *ip, uint16_t port)
{
	cr_assert_eq(sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", path);
	sqlite3_stmt *s = NULL;
	cr_assert_eq(sqlite3_prepare_v2(*db, sql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(*db));
	sqlite3_bind_text(s, 1, ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, port);
	return s;
}

int state_db_peek_starttls(const char *path, const char *ip, uint16_t port, uint64_t *when_us)
{
	sqlite3 *db;
	sqlite3_stmt *s = prepare(&db, path,
	                          "SELECT starttls_offered, coalesce(starttls_last, 0) FROM servers"
	                          " WHERE ip = ?1 AND port = ?2",
	                          ip, port);
	int rc = sqlite3_step(s), out = 0;
	cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s", sqlite3_errmsg(db));
	if (rc == SQLITE_ROW && sqlite3_column_int(s, 0)) {
		out = 1;
		if (when_us)
			*when_us = (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

size_t state_db_peek_values(const char *path, const char *ip, uint16_t port, enum state_server_value kind,
                            char out[][64], size_t max)
{
	sqlite3 *db;
	sqlite3_stmt *s =
	    prepare(&db, path,
	            "SELECT v.value, v.first_seen, v.last_seen FROM server_values v JOIN servers s ON s.id = "
	            "v.server_id"
	            " WHERE s.ip = ?1 AND s.port = ?2 AND v.kind = ?3 ORDER BY v.first_seen, v.value",
	            ip, port);
	sqlite3_bind_int(s, 3, (int)kind);
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cr_assert_leq(sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
		              "first seen after last seen");
		if (n < max)
			snprintf(out[n++], 64, "%s", (const char *)sqlite3_column_text(s, 0));
	}
	cr_assert_eq(rc, SQLITE_DONE, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}
